"""Outbound delivery: rate limiting, message splitting and the outbox dispatcher."""
