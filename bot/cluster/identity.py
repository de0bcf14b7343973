"""A name for this worker process: in the outbox (`claimed_by`), the leases and the logs."""

from __future__ import annotations

import os
import secrets
import socket


def worker_id() -> str:
    """host:pid:random; the random part tells a restarted process with a reused pid apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
