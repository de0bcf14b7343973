"""Small durable key/value settings."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.storage.repositories._base import SqlRepository, dialect_insert
from bot.storage.tables import settings


class SqlKeyValueRepository(SqlRepository):
    async def get(self, key: str) -> str | None:
        result = await self._conn.execute(select(settings.c.value).where(settings.c.key == key))
        value: str | None = result.scalar_one_or_none()
        return value

    async def put(self, key: str, value: str) -> None:
        stmt = dialect_insert(self._conn, settings).values(key=key, value=value)
        stmt = stmt.on_conflict_do_update(
            index_elements=[settings.c.key], set_={"value": stmt.excluded.value}
        )
        await self._conn.execute(stmt)

    async def delete(self, key: str) -> None:
        await self._conn.execute(delete(settings).where(settings.c.key == key))
