"""Coupon pools: unique codes loaded in advance and handed out once per contact."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, exists, func, select, text
from sqlalchemy.sql import Executable

from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.tables import coupon_codes as table


def _build_load(insert: InsertFactory) -> Executable:
    return (
        insert(table)
        .values(binds(table, "pool", "code"))
        .on_conflict_do_nothing(index_elements=[table.c.pool, table.c.code])
        # One row back per code actually added: how `load` counts (an executemany's rowcount
        # is not reliable on every driver).
        .returning(table.c.id)
    )


_in_pool = table.c.pool == bindparam("of_pool")
_free = table.c.contact_id.is_(None)

# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_LOAD = PerDialect(_build_load)
_MINE = (
    select(table.c.code)
    .where(_in_pool, table.c.contact_id == bindparam("of_contact"))
    .order_by(table.c.id)
    .limit(1)
)
# The oldest free code no other transaction holds: SKIP LOCKED on PostgreSQL, so two contacts
# assigned at once take different codes instead of waiting for each other.
_FREE_CODE = (
    select(table.c.id).where(_in_pool, _free).order_by(table.c.id).limit(1)
    .with_for_update(skip_locked=True)
)  # fmt: skip
_held = table.alias("held")
_TAKE = (
    table.update()
    .where(
        table.c.id.in_(_FREE_CODE),
        # Atomic "once per contact" where the statement runs under a write lock (SQLite);
        # PostgreSQL also needs the advisory lock below, as it checks against a snapshot.
        ~exists().where(
            _held.c.pool == bindparam("of_pool"), _held.c.contact_id == bindparam("of_contact")
        ),
    )
    .values(binds(table, "contact_id", "assigned_at"))
    .returning(table.c.code)
)
# Two assigns for the same contact and pool take turns until the first transaction ends, so
# the second finds the first's code instead of taking another one.
_LOCK_CONTACT_POOL = text("SELECT pg_advisory_xact_lock(hashtextextended(:lock_key, 0))")
_REMAINING = select(func.count()).select_from(table).where(_in_pool, _free)


class SqlCouponRepository(SqlRepository):
    async def load(self, pool: str, codes: Iterable[str]) -> int:
        # dict.fromkeys: without repeats, in the order given.
        params = [{"pool": pool, "code": code} for code in dict.fromkeys(codes)]
        if not params:
            return 0
        return len((await self._conn.execute(_LOAD.of(self._conn), params)).all())

    async def assign(self, pool: str, contact_id: int, at: datetime) -> str | None:
        if self._conn.dialect.name == "postgresql":
            lock_key = f"nudge:coupon:{pool}:{contact_id}"
            await self._conn.execute(_LOCK_CONTACT_POOL, {"lock_key": lock_key})
        wanted = {"of_pool": pool, "of_contact": contact_id}
        mine: str | None = (await self._conn.execute(_MINE, wanted)).scalar()
        if mine is not None:
            return mine
        params = {**wanted, "contact_id": contact_id, "assigned_at": at}
        taken: str | None = (await self._conn.execute(_TAKE, params)).scalar()
        if taken is not None:
            return taken
        # Nothing taken: the pool is empty, or (SQLite, another process) the contact got a
        # code between the two statements.
        return (await self._conn.execute(_MINE, wanted)).scalar()

    async def remaining(self, pool: str) -> int:
        return int((await self._conn.execute(_REMAINING, {"of_pool": pool})).scalar_one())
