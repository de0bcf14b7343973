"""A name for this worker process: in the outbox (`claimed_by`), the leases and the logs."""

from __future__ import annotations

import os
import secrets
import socket


def worker_id() -> str:
    """host:pid:random; the random part tells a restarted process with a reused pid apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def bot_id(token: str | None) -> str:
    """The bot's id, the part of its token before the colon: not secret (it is the bot's user
    id), and what Telegram counts limits by. Keys shared by the workers of one bot carry it."""
    return token.split(":", 1)[0] if token else "none"
