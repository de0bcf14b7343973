"""SQLite WAL checkpoints in a worker thread instead of inside commits on the event loop.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with an fsync)
inside whichever commit pushes the log past 1,000 pages. Our statements run on the event
loop's thread (`sqlite_inline.py`), so that commit held the loop: 17-25 ms against a few ms for
an ordinary commit on the project's machine, and up to 140 ms while other processes used the
disk, the longest stalls while 100,000 funnel steps fell due once the garbage collector's were
gone (`bench/README.md`, "Funnels at scale"). A running app switches the commits' checkpoints
off (`InlineSqliteEngine.defer_checkpoints`) and runs `WalCheckpointer.checkpoint` every
second from a pump: a PASSIVE checkpoint on its own connection in a thread, which never waits
for a writer and, with the GIL released inside SQLite, runs beside the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass

CHECKPOINT_SECONDS = 1.0  # how often a running app checkpoints (the log stays small)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What one checkpoint did: the pages in the log, and how many of them it copied back."""

    busy: bool  # another checkpoint was running
    log_pages: int
    copied_pages: int


class WalCheckpointer:
    def __init__(self, path: str, *, uri: bool = False, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self._uri = uri
        self._busy_timeout_ms = busy_timeout_ms

    async def checkpoint(self) -> Checkpoint:
        return await asyncio.to_thread(self._checkpoint)

    def _checkpoint(self) -> Checkpoint:
        # A connection per checkpoint: a second a part, opening one costs far less than the
        # checkpoint, and no connection is shared between the threads asyncio picks.
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout_ms / 1000, uri=self._uri)
        try:
            busy, log_pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
        return Checkpoint(bool(busy), int(log_pages), int(copied))
