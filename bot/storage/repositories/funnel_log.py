"""The funnel log: every step of every enrollment, for reports and the frequency cap."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Row, bindparam, func, select

from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.repositories.json_rows import JsonRows, bulk_insert
from bot.storage.tables import funnel_log as table

_COLUMNS = (
    "enrollment_id",
    "funnel_id",
    "contact_id",
    "step_id",
    "kind",
    "detail",
    "variant",
    "at",
)

# The columns are the entry's attributes: add_many reads them in one call a line (the kinds are
# StrEnums, which JSON writes as their values).
_FIELDS = attrgetter(*_COLUMNS)

# Statements are built once (see `_base`).
_ADD = table.insert().values(binds(table, *_COLUMNS)).returning(table.c.id)
# One statement for the lot, not one per row (see `BulkInsert`).
_NEW = JsonRows(table, _COLUMNS)
_ADD_MANY = bulk_insert(_NEW, constants={})
# Both walk ix_funnel_log_contact_id_kind_at: one contact, one kind, a range of `at`.
_SENT_SINCE = (
    table.c.contact_id == bindparam("of_contact"),
    table.c.kind == FunnelLogKind.SENT.value,
    table.c.at >= bindparam("since"),
)
_COUNT_SENT_SINCE = select(func.count()).select_from(table).where(*_SENT_SINCE)
_SENT_TIMES_SINCE = select(table.c.at).where(*_SENT_SINCE).order_by(table.c.at)
_SENT_TIMES_SINCE_MANY = select(table.c.contact_id, table.c.at).where(
    table.c.contact_id.in_(bindparam("of_contacts", expanding=True)),
    table.c.kind == FunnelLogKind.SENT.value,
    table.c.at >= bindparam("since"),
)
_IN_CHUNK = 500  # ids per `IN (...)`: well below SQLite's bound-parameter limit
_FOR_ENROLLMENT = (
    select(table).where(table.c.enrollment_id == bindparam("of_enrollment")).order_by(table.c.id)
)


def _params(entry: FunnelLogEntry) -> dict[str, Any]:
    return {
        "enrollment_id": entry.enrollment_id,
        "funnel_id": entry.funnel_id,
        "contact_id": entry.contact_id,
        "step_id": entry.step_id,
        "kind": entry.kind.value,
        "detail": entry.detail,
        "variant": entry.variant,
        "at": entry.at,
    }


def _to_entry(row: Row[Any]) -> FunnelLogEntry:
    return FunnelLogEntry(
        id=row.id,
        enrollment_id=row.enrollment_id,
        funnel_id=row.funnel_id,
        contact_id=row.contact_id,
        step_id=row.step_id,
        kind=FunnelLogKind(row.kind),
        at=row.at,
        detail=row.detail,
        variant=row.variant,
    )


class SqlFunnelLogRepository(SqlRepository):
    async def add(self, entry: FunnelLogEntry) -> FunnelLogEntry:
        new_id = (await self._conn.execute(_ADD, _params(entry))).scalar_one()
        return replace(entry, id=new_id)

    async def add_many(self, entries: Iterable[FunnelLogEntry]) -> int:
        rows = [list(_FIELDS(entry)) for entry in entries]
        if not rows:
            return 0
        dialect = self._conn.dialect
        result = await self._conn.execute(_ADD_MANY[dialect.name], _NEW.params(dialect, rows))
        return len(result.all())

    async def count_sent_since(self, contact_id: int, since: datetime) -> int:
        params = {"of_contact": contact_id, "since": since}
        return int((await self._conn.execute(_COUNT_SENT_SINCE, params)).scalar_one())

    async def sent_times_since(self, contact_id: int, since: datetime) -> list[datetime]:
        params = {"of_contact": contact_id, "since": since}
        return list((await self._conn.execute(_SENT_TIMES_SINCE, params)).scalars())

    async def sent_times_since_many(
        self, contact_ids: Iterable[int], since: datetime
    ) -> dict[int, list[datetime]]:
        wanted = sorted(set(contact_ids))
        times: dict[int, list[datetime]] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            params = {"of_contacts": wanted[start : start + _IN_CHUNK], "since": since}
            for row in await self._conn.execute(_SENT_TIMES_SINCE_MANY, params):
                times.setdefault(row.contact_id, []).append(row.at)
        for found in times.values():
            found.sort()
        return times

    async def for_enrollment(self, enrollment_id: int) -> list[FunnelLogEntry]:
        result = await self._conn.execute(_FOR_ENROLLMENT, {"of_enrollment": enrollment_id})
        return [_to_entry(row) for row in result]
