"""Raw inbound updates, stored before the channel is acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from bot.domain.model import Channel, InboundStatus, InboundUpdate
from bot.storage.repositories._base import SqlRepository, dialect_insert
from bot.storage.tables import inbound_updates


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
        stmt = (
            dialect_insert(self._conn, inbound_updates)
            .values(
                channel=channel.value,
                external_key=external_key,
                payload=payload,
                status=InboundStatus.PENDING.value,
                received_at=at,
            )
            .on_conflict_do_nothing(
                index_elements=[inbound_updates.c.channel, inbound_updates.c.external_key]
            )
            .returning(inbound_updates)
        )
        row = (await self._conn.execute(stmt)).first()
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
        pending = (
            select(inbound_updates.c.id)
            .where(inbound_updates.c.status == InboundStatus.PENDING.value)
            .order_by(inbound_updates.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(inbound_updates)
            .where(inbound_updates.c.id.in_(pending))
            .values(status=inbound_updates.c.status)
            .returning(inbound_updates)
        )
        claimed = [_to_update(row) for row in await self._conn.execute(stmt)]
        return sorted(claimed, key=lambda update: update.id)

    async def mark(self, update_id: int, processed: bool, error: str | None, at: datetime) -> None:
        status = InboundStatus.PROCESSED if processed else InboundStatus.FAILED
        stmt = (
            update(inbound_updates)
            .where(inbound_updates.c.id == update_id)
            .values(status=status.value, error=error, processed_at=at)
        )
        await self._conn.execute(stmt)
