"""Outbound webhook deliveries: an outbox of their own, one row per event and endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select
from sqlalchemy.sql import Executable

from bot.domain.events import WebhookDelivery, WebhookStatus
from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.tables import webhook_deliveries as deliveries

_CLAIMABLE = [WebhookStatus.PENDING.value, WebhookStatus.SENDING.value]


def _build_add(insert: InsertFactory) -> Executable:
    columns = ("event_key", "endpoint", "event_type", "payload", "created_at", "updated_at")
    return (
        insert(deliveries)
        .values(binds(deliveries, *columns))
        .values(
            status=WebhookStatus.PENDING.value,
            attempts=0,
            next_attempt_at=bindparam("due_at", type_=deliveries.c.next_attempt_at.type),
        )
        .on_conflict_do_nothing(index_elements=[deliveries.c.event_key, deliveries.c.endpoint])
        .returning(deliveries)
    )


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = PerDialect(_build_add)
_GET = select(deliveries).where(deliveries.c.id == bindparam("delivery_id"))
# A SENDING row is due again only when its lease ran out: its dispatcher died mid-request.
# Sub-select with FOR UPDATE SKIP LOCKED on PostgreSQL, SQLite's single write lock otherwise
# (see the outbox's claim): no row is claimed twice.
_DUE = (
    select(deliveries.c.id)
    .where(
        deliveries.c.status.in_(_CLAIMABLE),
        deliveries.c.next_attempt_at <= bindparam("now"),
    )
    .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_CLAIM_DUE = (
    deliveries.update()
    .where(deliveries.c.id.in_(_DUE))
    .values(binds(deliveries, "updated_at"))
    .values(
        status=WebhookStatus.SENDING.value,
        next_attempt_at=bindparam("lease_until", type_=deliveries.c.next_attempt_at.type),
    )
    .returning(deliveries)
)
_COUNTED = {"attempts": deliveries.c.attempts + 1}
_DELIVERED = (
    deliveries.update()
    .where(deliveries.c.id == bindparam("delivery_id"))
    .values(binds(deliveries, "updated_at", "delivered_at"))
    .values(status=WebhookStatus.DELIVERED.value, last_error=None, **_COUNTED)
)
_FAILED = (
    deliveries.update()
    .where(deliveries.c.id == bindparam("delivery_id"))
    .values(binds(deliveries, "updated_at", "last_error"))
    .values(status=WebhookStatus.FAILED.value, **_COUNTED)
)
_RETRY_AT = (
    deliveries.update()
    .where(deliveries.c.id == bindparam("delivery_id"))
    .values(binds(deliveries, "updated_at", "last_error", "next_attempt_at"))
    .values(status=WebhookStatus.PENDING.value, **_COUNTED)
)


def _to_delivery(row: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        event_key=row.event_key,
        endpoint=row.endpoint,
        event_type=row.event_type,
        payload=dict(row.payload),
        status=WebhookStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


class SqlWebhookDeliveryRepository(SqlRepository):
    async def add(
        self,
        event_key: str,
        endpoint: str,
        event_type: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> WebhookDelivery | None:
        params: dict[str, Any] = {
            "event_key": event_key,
            "endpoint": endpoint,
            "event_type": event_type,
            "payload": payload,
            "created_at": at,
            "updated_at": at,
            "due_at": at,
        }
        row = (await self._conn.execute(_ADD.of(self._conn), params)).first()
        return _to_delivery(row) if row is not None else None

    async def get(self, delivery_id: int) -> WebhookDelivery | None:
        row = (await self._conn.execute(_GET, {"delivery_id": delivery_id})).first()
        return _to_delivery(row) if row is not None else None

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[WebhookDelivery]:
        if limit <= 0:
            return []
        params = {"now": now, "lease_until": lease_until, "limit": limit, "updated_at": now}
        claimed = [_to_delivery(row) for row in await self._conn.execute(_CLAIM_DUE, params)]
        return sorted(claimed, key=lambda delivery: delivery.id)

    async def delivered(self, delivery_id: int, at: datetime) -> None:
        params = {"delivery_id": delivery_id, "updated_at": at, "delivered_at": at}
        await self._conn.execute(_DELIVERED, params)

    async def failed(self, delivery_id: int, error: str, at: datetime) -> None:
        params = {"delivery_id": delivery_id, "updated_at": at, "last_error": error}
        await self._conn.execute(_FAILED, params)

    async def retry_at(self, delivery_id: int, when: datetime, error: str, at: datetime) -> None:
        params = {
            "delivery_id": delivery_id,
            "updated_at": at,
            "last_error": error,
            "next_attempt_at": when,
        }
        await self._conn.execute(_RETRY_AT, params)
