"""Handles one inbound event: the one place where a conversation changes status."""
