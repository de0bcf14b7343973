"""SQLite units of work that run their statements on the event loop's thread.

Why not aiosqlite for the hot path: it hands every statement to a helper thread and back, and
that hand-off costs far more than the statement itself. Measured on the project's machine: a
primary-key SELECT through SQLAlchemy's async aiosqlite engine takes ~270 µs of CPU, the same
through SQLAlchemy's sync pysqlite engine ~30 µs (`bench/README.md`). SQLite statements in WAL
mode take microseconds, so running them inline is cheaper than any thread hop.

Because the statements never yield to the loop, two units of work could still interleave if one
awaited something else while open; a process-wide asyncio lock makes them take turns, which is
also how SQLite itself works (one writer at a time). The aiosqlite engine stays for migrations
and administration, where speed does not matter.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.engine.interfaces import _CoreAnyExecuteParams
from sqlalchemy.sql import Executable

from bot.storage.engine import set_sqlite_pragmas


class InlineSqliteConnection:
    """The slice of `AsyncConnection` the repositories use, over a sync connection."""

    def __init__(self, sync: Connection, release: asyncio.Lock) -> None:
        self._sync = sync
        self._release = release

    @property
    def dialect(self) -> Dialect:
        return self._sync.dialect

    async def execute(
        self, statement: Executable, parameters: _CoreAnyExecuteParams | None = None
    ) -> CursorResult[Any]:
        return self._sync.execute(statement, parameters)

    def in_transaction(self) -> bool:
        return self._sync.in_transaction()

    async def begin(self) -> None:
        self._sync.begin()

    async def commit(self) -> None:
        self._sync.commit()

    async def rollback(self) -> None:
        self._sync.rollback()

    async def close(self) -> None:
        try:
            self._sync.close()
        finally:
            self._release.release()


class InlineSqliteEngine:
    """Hands out inline connections one at a time per process (see the module docstring)."""

    def __init__(self, url: URL) -> None:
        # The aiosqlite URL names the same file; the sync engine uses the stdlib driver.
        self._engine: Engine = create_engine(url.set(drivername="sqlite+pysqlite"))
        event.listen(self._engine, "connect", set_sqlite_pragmas)
        event.listen(self._engine, "connect", self._set_autocheckpoint)
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self.path = url.database or ""
        self.path_is_uri = url.query.get("uri") == "true"  # a `file:` URI, passed on untouched
        self._checkpoints_deferred = False

    def defer_checkpoints(self) -> None:
        """Commits stop checkpointing the WAL: the caller runs the checkpoints off the event
        loop (`bot/storage/checkpoints.py`), or the log grows until the last connection closes.
        """
        self._checkpoints_deferred = True
        self._engine.dispose()  # the pooled connections were opened checkpointing

    def _set_autocheckpoint(self, dbapi_connection: Any, _record: Any) -> None:
        if self._checkpoints_deferred:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    async def connect(self) -> InlineSqliteConnection:
        task = asyncio.current_task()
        if self._lock.locked() and task is not None and self._owner is task:
            # Waiting here would wait for ourselves forever.
            raise RuntimeError("a unit of work was opened inside another one on SQLite")
        await self._lock.acquire()
        self._owner = task
        try:
            sync = self._engine.connect()
        except BaseException:
            self._owner = None
            self._lock.release()
            raise
        return InlineSqliteConnection(sync, self._lock)

    def dispose(self) -> None:
        self._engine.dispose()
