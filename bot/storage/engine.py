"""Building the async engine from the configured URL.

SQLite (aiosqlite) is the default; PostgreSQL (asyncpg) is used when the URL says so. Each
backend gets the connection settings it needs to behave well under a bot's concurrent load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from bot.storage.errors import StorageConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/nudge.db"

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"

# Operators copy URLs from hosting panels and docs, which rarely name the async driver.
_DRIVER_ALIASES = {
    "sqlite": SQLITE_DRIVER,
    SQLITE_DRIVER: SQLITE_DRIVER,
    "postgresql": POSTGRES_DRIVER,
    "postgres": POSTGRES_DRIVER,
    POSTGRES_DRIVER: POSTGRES_DRIVER,
}

# WAL lets readers work while one writer commits; NORMAL is durable in WAL mode except for the
# last transactions on power loss; SQLite ignores foreign keys unless asked, per connection;
# busy_timeout makes a second writer wait for the lock instead of failing at once.
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)

# The sqlite3 driver's default ("legacy") transaction control is kept on purpose: it opens the
# transaction at the first write, so reads before it hold no snapshot that the write would have
# to upgrade (an upgrade that fails at once with SQLITE_BUSY, busy_timeout or not). What must be
# atomic is one statement: claims are UPDATE ... RETURNING, duplicates are INSERT ... ON CONFLICT.

_SUPPORTED = "sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user:password@host/db"


def normalize_url(url: str) -> URL:
    """Parse `url`, pick the async driver, and reject anything else with StorageConfigError."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The URL may hold a password: do not echo it.
        raise StorageConfigError(f"cannot parse the storage URL; expected {_SUPPORTED}") from None
    driver = _DRIVER_ALIASES.get(parsed.drivername)
    if driver is None:
        raise StorageConfigError(
            f"unsupported storage URL scheme {parsed.drivername!r}; expected {_SUPPORTED}"
        )
    return parsed.set(drivername=driver)


def is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def create_engine(url: str = DEFAULT_DATABASE_URL) -> AsyncEngine:
    """An AsyncEngine for `url` (SQLite file or PostgreSQL), configured for Nudge."""
    parsed = normalize_url(url)
    if parsed.drivername == SQLITE_DRIVER:
        return _sqlite_engine(parsed)
    return _postgres_engine(parsed)


def _sqlite_engine(url: URL) -> AsyncEngine:
    if is_memory_sqlite(url):
        # SQLAlchemy gives a memory database ONE shared connection: units of work would share
        # (and roll back) each other's transactions. Tests use a temp file instead.
        raise StorageConfigError(
            "in-memory SQLite is not supported (units of work need their own connections); "
            "use a file, e.g. sqlite+aiosqlite:///data/nudge.db"
        )
    if url.query.get("uri") != "true":  # a file: URI is passed to SQLite untouched
        url = url.set(database=str(_prepare_sqlite_path(url.database or "")))
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", set_sqlite_pragmas)
    return engine


def _prepare_sqlite_path(database: str) -> Path:
    # Resolve once, now: a later chdir (daemonising, tests) must not switch databases.
    path = Path(database).expanduser().resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageConfigError(f"cannot create the folder for {path}: {exc}") from exc
    return path


def set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _postgres_engine(url: URL) -> AsyncEngine:
    return create_async_engine(
        url,
        # A bot process runs a handful of concurrent jobs; 5 + 10 overflow fits the default
        # max_connections=100 even with several processes.
        pool_size=5,
        max_overflow=10,
        pool_timeout=30,
        # Servers and proxies drop idle connections; check before use and recycle hourly.
        pool_pre_ping=True,
        pool_recycle=3600,
        connect_args={"server_settings": {"application_name": "nudge"}},
    )
