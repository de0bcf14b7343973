from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, inspect

from bot.storage.engine import create_engine
from bot.storage.migrate import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade_engine,
    head_revision,
    upgrade,
)
from bot.storage.tables import metadata
from bot.storage.uow import Storage


def _differences(conn: Connection, target: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, target))


async def _schema_differences(url: str, target: MetaData = metadata) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_differences, target)
    finally:
        await engine.dispose()


async def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


LATEST = "0012"


def test_migrations_are_shipped_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    # Packages, so setuptools puts their .py files in the wheel.
    importlib.import_module("bot.storage.migrations.versions")
    assert head_revision() == LATEST


async def test_upgrade_from_empty_to_head_matches_the_tables(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini here: none is needed
    assert await current_revision(fresh_database_url) is None

    await upgrade(fresh_database_url)

    assert await current_revision(fresh_database_url) == head_revision()
    assert await _schema_differences(fresh_database_url) == []
    await upgrade(fresh_database_url)  # at head: nothing to do
    assert await current_revision(fresh_database_url) == head_revision()


async def test_the_comparison_does_notice_a_difference(fresh_database_url: str) -> None:
    """Guards the test above: an empty diff must mean "same schema", not "did not compare"."""
    await upgrade(fresh_database_url)
    changed = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["outbox"].c.reason.type = String(10)
    Table("extra", changed, Column("id", Integer, primary_key=True))

    differences = await _schema_differences(fresh_database_url, changed)

    kinds = {diff[0][0] if isinstance(diff, list) else diff[0] for diff in differences}
    assert kinds == {"add_table", "modify_type"}


async def test_downgrade_to_base_removes_every_table(fresh_database_url: str) -> None:
    await upgrade(fresh_database_url)
    engine = create_engine(fresh_database_url)
    try:
        await downgrade_engine(engine, "base")
    finally:
        await engine.dispose()
    assert await _table_names(fresh_database_url) - {"alembic_version", "sqlite_sequence"} == set()
    await upgrade(fresh_database_url)
    assert set(metadata.tables) <= await _table_names(fresh_database_url)


async def test_storage_upgrade_and_revision(fresh_database_url: str) -> None:
    storage = Storage(fresh_database_url)
    try:
        assert not await storage.is_up_to_date()
        await storage.upgrade()
        assert await storage.current_revision() == LATEST
        assert await storage.is_up_to_date()
    finally:
        await storage.dispose()


async def test_concurrent_upgrades_on_postgresql_do_not_collide(fresh_database_url: str) -> None:
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite has one process migrating; PostgreSQL may have several")
    await asyncio.gather(*(upgrade(fresh_database_url) for _ in range(3)))
    assert await current_revision(fresh_database_url) == head_revision()
