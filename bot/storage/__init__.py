"""Storage: SQLAlchemy Core tables, repositories, the unit of work, Alembic migrations.

The only package that imports SQLAlchemy. SQLite (aiosqlite) by default, PostgreSQL (asyncpg)
when the URL says so. The application holds one `Storage`:

    storage = Storage(url, clock=clock)
    await storage.upgrade()
    async with storage.uow() as uow:
        ...
        await uow.commit()
    await storage.dispose()
"""

from bot.storage.engine import DEFAULT_DATABASE_URL, create_engine
from bot.storage.errors import StorageConfigError, StorageError, StorageUnavailableError
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.uow import SqlUnitOfWork, Storage

__all__ = [
    "DEFAULT_DATABASE_URL",
    "SqlUnitOfWork",
    "Storage",
    "StorageConfigError",
    "StorageError",
    "StorageUnavailableError",
    "create_engine",
    "current_revision",
    "head_revision",
    "upgrade",
]
