"""Running the Alembic migrations from code, with no alembic.ini in the working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine
from bot.storage.sqlite_foreign_keys import keys_on

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Any constant works; it only has to be the same for every Nudge process on the server.
_PG_MIGRATION_LOCK = 0x6E75646765  # "nudge"


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations (env.py reads the connection
    from `config.attributes["connection"]`)."""
    config = Config()
    # Config values go through ConfigParser interpolation, where "%" is special.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(url: str, revision: str = "head") -> None:
    engine = create_engine(url)
    try:
        await upgrade_engine(engine, revision)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    """The database's revision, None for a database that was never migrated."""
    engine = create_engine(url)
    try:
        return await current_revision_of(engine)
    finally:
        await engine.dispose()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    await _migrate(engine, "upgrade", revision)


async def downgrade_engine(engine: AsyncEngine, revision: str) -> None:
    await _migrate(engine, "downgrade", revision)


async def _migrate(engine: AsyncEngine, name: str, revision: str) -> None:
    async with engine.connect() as conn:
        try:
            await conn.run_sync(_run_command, name, revision)
            await conn.commit()
        finally:
            if conn.dialect.name == "sqlite":
                # env.py turned SQLite's foreign keys off for the change; only outside a
                # transaction can they be turned on again, before the connection is pooled.
                await conn.rollback()
                await conn.run_sync(keys_on)


async def current_revision_of(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current_revision_sync)


def _current_revision_sync(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _run_command(connection: Connection, name: str, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes starting together must not both migrate: the second waits here, then
        # finds the database at head. The lock ends with the transaction.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    if name == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
