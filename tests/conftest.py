"""Shared test fixtures: clocks, databases and `Storage`, for the tests of every package.

Fixture names are stable; other packages' tests rely on them.

- `clock` -> `FakeClock` (function): the clock handed to `Storage` (it stamps contacts and
  rescheduled outbox rows). Services under test should take this same clock.
- `database_url` -> str (session, params `sqlite` / `postgresql`): a database for the test
  session. SQLite is a temp file; PostgreSQL is ONE database created for the session on the
  server below and dropped at the end. Tests that use `storage` find it migrated and empty.
- `sqlite_database_url` -> str (session): the SQLite one alone.
- `postgres_database_url` -> str (session): the PostgreSQL one alone; skips when unreachable.
- `fresh_database_url` -> str (function, params `sqlite` / `postgresql`): a brand-new, never
  migrated, empty database for tests of the migrations themselves; dropped afterwards.
- `storage` -> `Storage` (function, runs once per `database_url` param): migrated (once per
  database per session), every table emptied before the test, disposed after.
- `sqlite_storage` -> `Storage` (function): the same on SQLite only, for fast tests of other
  packages.

PostgreSQL: the server is `NUDGE_TEST_POSTGRES_URL` if set (any database on it, e.g.
`postgresql+asyncpg://postgres@127.0.0.1:5432/postgres`; the named one is used for CREATE and
DROP DATABASE), else `postgresql+asyncpg://postgres@127.0.0.1:5432/postgres` (trust auth). When
it cannot be reached the `postgresql` params are skipped with the reason
"PostgreSQL not reachable at host:port: ..."; run `pytest -k sqlite` to leave them out.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from hypothesis import settings
from sqlalchemy import URL, make_url

from bot.domain.clock import FakeClock
from bot.storage.tables import metadata
from bot.storage.uow import Storage

# Hypothesis: random examples on a developer's machine (new ones each run: that is how the
# fuzz tests find bugs); the same examples in CI (`HYPOTHESIS_PROFILE=ci` in .ci/run), where a
# red run blocks everything and must come from the change, not from the draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DEFAULT_POSTGRES_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DATABASE_KINDS = ["sqlite", "postgresql"]

# Databases already migrated in this session: migrating once and emptying the tables between
# tests is far faster than a fresh schema per test.
_migrated: set[str] = set()


def _run_in_thread(make_coro: Callable[[], Awaitable[Any]]) -> Any:
    """Run admin coroutines in their own thread and loop, away from pytest-asyncio's loops."""

    async def main() -> Any:
        return await make_coro()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _postgres_server() -> URL:
    url = make_url(os.environ.get("NUDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_SERVER))
    return url.set(drivername="postgresql+asyncpg", database=url.database or "postgres")


def _asyncpg_dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(server: URL, *statements: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server), timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _check_postgres_reachable(server: URL) -> None:
    async def ping() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(server), timeout=5)
        await connection.close()

    try:
        _run_in_thread(ping)
    except Exception as exc:  # any failure to connect means: no PostgreSQL for these tests
        pytest.skip(f"PostgreSQL not reachable at {server.host}:{server.port or 5432}: {exc}")


def _create_postgres_database(server: URL) -> str:
    name = f"nudge_test_{uuid.uuid4().hex[:12]}"
    _run_in_thread(lambda: _admin(server, f'CREATE DATABASE "{name}"'))
    return server.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(server: URL, url: str) -> None:
    name = make_url(url).database
    # FORCE: a test that failed may have left a connection open.
    _run_in_thread(lambda: _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _sqlite_url(tmp_path_factory.mktemp("sqlite") / "nudge.db")


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    server = _postgres_server()
    _check_postgres_reachable(server)
    url = _create_postgres_database(server)
    yield url
    _drop_postgres_database(server, url)


@pytest.fixture(scope="session", params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_database_url" if request.param == "sqlite" else "postgres_database_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(params=DATABASE_KINDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield _sqlite_url(tmp_path / "fresh.db")
        return
    request.getfixturevalue("postgres_database_url")  # skips when the server is unreachable
    server = _postgres_server()
    url = _create_postgres_database(server)
    yield url
    _drop_postgres_database(server, url)


async def _empty_tables(storage: Storage) -> None:
    async with storage.engine.begin() as conn:
        # Children before parents, so foreign keys never object.
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


@asynccontextmanager
async def _ready_storage(url: str, clock: FakeClock) -> AsyncIterator[Storage]:
    storage = Storage(url, clock=clock)
    try:
        if url not in _migrated:
            await storage.upgrade()
            _migrated.add(url)
        await _empty_tables(storage)
        yield storage
    finally:
        await storage.dispose()


@pytest.fixture
async def storage(database_url: str, clock: FakeClock) -> AsyncIterator[Storage]:
    async with _ready_storage(database_url, clock) as ready:
        yield ready


@pytest.fixture
async def sqlite_storage(sqlite_database_url: str, clock: FakeClock) -> AsyncIterator[Storage]:
    async with _ready_storage(sqlite_database_url, clock) as ready:
        yield ready
