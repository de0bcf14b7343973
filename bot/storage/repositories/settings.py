"""Small durable key/value settings."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.sql import Executable

from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.tables import settings


def _build_put(insert: InsertFactory) -> Executable:
    stmt = insert(settings).values(binds(settings, "key", "value"))
    return stmt.on_conflict_do_update(
        index_elements=[settings.c.key], set_={"value": stmt.excluded.value}
    )


# Statements are built once (see `_base`).
_GET = select(settings.c.value).where(settings.c.key == bindparam("key"))
_PUT = PerDialect(_build_put)
_DELETE = settings.delete().where(settings.c.key == bindparam("key"))


class SqlKeyValueRepository(SqlRepository):
    async def get(self, key: str) -> str | None:
        value: str | None = (await self._conn.execute(_GET, {"key": key})).scalar_one_or_none()
        return value

    async def put(self, key: str, value: str) -> None:
        await self._conn.execute(_PUT.of(self._conn), {"key": key, "value": value})

    async def delete(self, key: str) -> None:
        await self._conn.execute(_DELETE, {"key": key})
