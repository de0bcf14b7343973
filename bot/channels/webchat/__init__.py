"""The web chat channel: an embeddable site widget talking to Nudge over a WebSocket."""
