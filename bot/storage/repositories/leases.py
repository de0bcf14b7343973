"""Named leases in the database: who runs the once-per-cluster jobs, and until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, select
from sqlalchemy.sql import Executable

from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.tables import leases


def _build_take(insert: InsertFactory) -> Executable:
    """Insert the lease, or take it over when it is ours or has expired; RETURNING the row only
    when this holder has it. On PostgreSQL a second worker upserting at the same moment waits
    for the first one's row lock, then sees the lease taken and gets no row."""
    statement = insert(leases).values(binds(leases, "name", "holder", "acquired_at", "expires_at"))
    new = statement.excluded
    ours = leases.c.holder == new.holder
    return statement.on_conflict_do_update(
        index_elements=[leases.c.name],
        set_={
            "holder": new.holder,
            "expires_at": new.expires_at,
            # A renewal keeps the time it was first taken (how long this leader has led).
            "acquired_at": case((ours, leases.c.acquired_at), else_=new.acquired_at),
        },
        where=ours
        | (leases.c.expires_at <= bindparam("expired_by", type_=leases.c.expires_at.type)),
    ).returning(leases.c.holder)


_TAKE = PerDialect(_build_take)
_RELEASE = leases.delete().where(
    leases.c.name == bindparam("lease_name"), leases.c.holder == bindparam("lease_holder")
)
_HOLDER = select(leases.c.holder).where(
    leases.c.name == bindparam("lease_name"), leases.c.expires_at > bindparam("at")
)


class SqlLeaseRepository(SqlRepository):
    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew the lease `name` for `holder` until `until`; False when another holder
        has it and it has not expired at `now`."""
        params = {
            "name": name,
            "holder": holder,
            "acquired_at": now,
            "expires_at": until,
            "expired_by": now,
        }
        return (await self._conn.execute(_TAKE.of(self._conn), params)).first() is not None

    async def release(self, name: str, holder: str) -> bool:
        """Give the lease up (a clean shutdown): another worker can take it at once."""
        params = {"lease_name": name, "lease_holder": holder}
        return (await self._conn.execute(_RELEASE, params)).rowcount > 0

    async def holder(self, name: str, at: datetime) -> str | None:
        """Who holds `name` at `at` (None: nobody, or the lease expired)."""
        row = (await self._conn.execute(_HOLDER, {"lease_name": name, "at": at})).first()
        return row.holder if row is not None else None
