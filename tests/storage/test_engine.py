from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.engine import create_engine, normalize_url
from bot.storage.errors import StorageConfigError, StorageUnavailableError
from bot.storage.uow import Storage


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_urls_get_the_async_driver(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u@h/db",
        "postgresql+psycopg://u@h/db",
        "redis://h",
        "not a url",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
    ],
)
def test_unsupported_urls_are_a_config_error(url: str) -> None:
    with pytest.raises(StorageConfigError):
        create_engine(url)


def test_a_config_error_does_not_echo_the_password() -> None:
    with pytest.raises(StorageConfigError) as caught:
        create_engine("mysql://user:hunter2@h/db")
    assert "hunter2" not in str(caught.value)


async def test_relative_sqlite_path_is_resolved_against_cwd_and_its_folder_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_engine("sqlite+aiosqlite:///data/sub/nudge.db")
    try:
        assert engine.url.database == str(tmp_path / "data" / "sub" / "nudge.db")
        assert (tmp_path / "data" / "sub").is_dir()
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        assert (tmp_path / "data" / "sub" / "nudge.db").is_file()
    finally:
        await engine.dispose()


async def test_every_sqlite_connection_gets_the_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        # Two connections open at once: both are new pool connections.
        async with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                pragmas = {
                    name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
                assert pragmas == {
                    "journal_mode": "wal",
                    "synchronous": 1,  # NORMAL
                    "foreign_keys": 1,
                    "busy_timeout": 5000,
                }
    finally:
        await engine.dispose()


async def test_check_connection_passes_on_a_live_database(storage: Storage) -> None:
    await storage.check_connection()


async def test_check_connection_reports_an_unreachable_server() -> None:
    storage = Storage("postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/nudge")
    try:
        with pytest.raises(StorageUnavailableError) as caught:
            await storage.check_connection()
        assert "hunter2" not in str(caught.value)
    finally:
        await storage.dispose()


def test_repr_hides_the_password() -> None:
    storage = Storage("postgresql+asyncpg://postgres:hunter2@127.0.0.1/nudge")
    assert "hunter2" not in repr(storage)
    assert storage.dialect == "postgresql"
