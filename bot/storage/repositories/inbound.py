"""Raw inbound updates, stored before the channel is acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select
from sqlalchemy.sql import Executable

from bot.domain.model import Channel, InboundStatus, InboundUpdate
from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.tables import inbound_updates


def _build_add(insert: InsertFactory) -> Executable:
    return (
        insert(inbound_updates)
        .values(binds(inbound_updates, "channel", "external_key", "payload", "received_at"))
        .values(status=InboundStatus.PENDING.value)
        .on_conflict_do_nothing(
            index_elements=[inbound_updates.c.channel, inbound_updates.c.external_key]
        )
        .returning(inbound_updates)
    )


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = PerDialect(_build_add)
# claim_pending: a no-op UPDATE of the oldest pending rows (see there why).
_PENDING = (
    select(inbound_updates.c.id)
    .where(inbound_updates.c.status == InboundStatus.PENDING.value)
    .order_by(inbound_updates.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_CLAIM_PENDING = (
    inbound_updates.update()
    .where(inbound_updates.c.id.in_(_PENDING))
    .values(status=inbound_updates.c.status)
    .returning(inbound_updates)
)
_MARK = (
    inbound_updates.update()
    .where(inbound_updates.c.id == bindparam("update_id"))
    .values(binds(inbound_updates, "status", "error", "processed_at"))
)


def _to_update(row: Row[Any]) -> InboundUpdate:
    return InboundUpdate(
        id=row.id,
        channel=Channel(row.channel),
        external_key=row.external_key,
        payload=dict(row.payload),
        status=InboundStatus(row.status),
        received_at=row.received_at,
        error=row.error,
    )


class SqlInboundRepository(SqlRepository):
    async def add(
        self, channel: Channel, external_key: str, payload: dict[str, Any], at: datetime
    ) -> InboundUpdate | None:
        params = {
            "channel": channel.value,
            "external_key": external_key,
            "payload": payload,
            "received_at": at,
        }
        row = (await self._conn.execute(_ADD.of(self._conn), params)).first()
        return _to_update(row) if row is not None else None

    async def claim_pending(self, limit: int) -> list[InboundUpdate]:
        """Pending updates, oldest first, held by this unit of work until it ends.

        There is no "processing" status: the claim is a lock. The statement is a no-op UPDATE
        rather than a SELECT so that SQLite takes its write lock here (a plain SELECT does not
        even start a transaction with the sqlite3 driver), making a second worker wait until
        this one commits its `mark` calls; on PostgreSQL FOR UPDATE SKIP LOCKED lets a second
        worker take the next rows instead.
        """
        if limit <= 0:
            return []
        claimed = [
            _to_update(row) for row in await self._conn.execute(_CLAIM_PENDING, {"limit": limit})
        ]
        return sorted(claimed, key=lambda update: update.id)

    async def mark(self, update_id: int, processed: bool, error: str | None, at: datetime) -> None:
        status = InboundStatus.PROCESSED if processed else InboundStatus.FAILED
        params = {
            "update_id": update_id,
            "status": status.value,
            "error": error,
            "processed_at": at,
        }
        await self._conn.execute(_MARK, params)
