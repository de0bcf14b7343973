"""Events posted to the Events API, stored for the funnel engine to consume."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select
from sqlalchemy.sql import Executable

from bot.domain.events import ApiEvent, ApiEventStatus
from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.tables import api_events


def _build_add(insert: InsertFactory) -> Executable:
    columns = ("key", "type", "contact_id", "data", "occurred_at", "received_at")
    return (
        insert(api_events)
        .values(binds(api_events, *columns))
        .values(status=ApiEventStatus.PENDING.value)
        .on_conflict_do_nothing(index_elements=[api_events.c.key])
        .returning(api_events)
    )


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = PerDialect(_build_add)
_GET_BY_KEY = select(api_events).where(api_events.c.key == bindparam("wanted_key"))
# claim_pending: a no-op UPDATE of the oldest pending rows, like the inbound updates' claim
# (see `SqlInboundRepository.claim_pending` for why it is not a SELECT).
_PENDING = (
    select(api_events.c.id)
    .where(api_events.c.status == ApiEventStatus.PENDING.value)
    .order_by(api_events.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_CLAIM_PENDING = (
    api_events.update()
    .where(api_events.c.id.in_(_PENDING))
    .values(status=api_events.c.status)
    .returning(api_events)
)
_MARK = (
    api_events.update()
    .where(api_events.c.id == bindparam("event_id"))
    .values(binds(api_events, "status", "error", "processed_at"))
)


def _to_event(row: Row[Any]) -> ApiEvent:
    return ApiEvent(
        id=row.id,
        key=row.key,
        type=row.type,
        contact_id=row.contact_id,
        data=dict(row.data),
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        status=ApiEventStatus(row.status),
        error=row.error,
        processed_at=row.processed_at,
    )


class SqlApiEventRepository(SqlRepository):
    async def add(
        self,
        key: str,
        type: str,
        contact_id: int,
        data: dict[str, Any],
        occurred_at: datetime,
        at: datetime,
    ) -> ApiEvent | None:
        params: dict[str, Any] = {
            "key": key,
            "type": type,
            "contact_id": contact_id,
            "data": data,
            "occurred_at": occurred_at,
            "received_at": at,
        }
        row = (await self._conn.execute(_ADD.of(self._conn), params)).first()
        return _to_event(row) if row is not None else None

    async def get_by_key(self, key: str) -> ApiEvent | None:
        row = (await self._conn.execute(_GET_BY_KEY, {"wanted_key": key})).first()
        return _to_event(row) if row is not None else None

    async def claim_pending(self, limit: int) -> list[ApiEvent]:
        if limit <= 0:
            return []
        result = await self._conn.execute(_CLAIM_PENDING, {"limit": limit})
        return sorted((_to_event(row) for row in result), key=lambda event: event.id)

    async def mark(self, event_id: int, processed: bool, error: str | None, at: datetime) -> None:
        status = ApiEventStatus.PROCESSED if processed else ApiEventStatus.FAILED
        params = {"event_id": event_id, "status": status.value, "error": error, "processed_at": at}
        await self._conn.execute(_MARK, params)
