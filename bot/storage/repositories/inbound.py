"""Raw inbound updates, stored before the channel is acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, exists, func, literal, select
from sqlalchemy.sql import Executable

from bot.domain.model import Channel, InboundStatus, InboundUpdate
from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.tables import inbound_updates


def _build_add(insert: InsertFactory) -> Executable:
    return (
        insert(inbound_updates)
        .values(
            binds(
                inbound_updates,
                "channel",
                "external_key",
                "payload",
                "received_at",
                "conversation_key",
            )
        )
        .values(status=InboundStatus.PENDING.value)
        .on_conflict_do_nothing(
            index_elements=[inbound_updates.c.channel, inbound_updates.c.external_key]
        )
        .returning(inbound_updates)
    )


# The first key of the two-key advisory locks taken per conversation (see `outbox_claims`).
INBOX_CONVERSATION_LOCKS = 0x4E0D_0002


def _conversation(table: Any) -> Any:
    # Updates without a key (stored before 0010) share one conversation per channel: in order.
    return func.coalesce(table.c.conversation_key, table.c.channel)


def _claimable_on_postgresql(candidates: Select[Any]) -> Select[Any]:
    """The candidates whose conversation this transaction holds, minus any that has an older
    pending update this claim did not get (another worker has that one row-locked: it must go
    first). Row locks alone would let a worker take a conversation's newer update while
    another still holds an older one."""
    candidate = candidates.with_for_update(skip_locked=True).subquery("candidate")
    lock = func.pg_try_advisory_xact_lock(
        literal(INBOX_CONVERSATION_LOCKS), func.hashtext(_conversation(candidate))
    )
    held = (
        select(candidate.c.id, _conversation(candidate).label("conversation"))
        .where(lock)
        .cte("held")
        .prefix_with("MATERIALIZED")
    )
    older = inbound_updates.alias("older")
    waits_for_older = exists().where(
        older.c.status == InboundStatus.PENDING.value,
        older.c.id < held.c.id,
        _conversation(older) == held.c.conversation,
        older.c.id.not_in(select(held.c.id)),
    )
    return select(held.c.id).where(~waits_for_older)


def _build_claim(postgresql: bool) -> Executable:
    """claim_pending: a no-op UPDATE of the oldest pending rows (see there why).

    On PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED and kept only if this
    transaction gets the advisory lock of their conversation, so a conversation's updates are
    handled by one worker at a time, oldest first. The claimable rows are a MATERIALIZED CTE:
    read once, never rescanned (see `outbox_claims.build_claim`).
    """
    candidates = (
        select(inbound_updates.c.id, inbound_updates.c.channel, inbound_updates.c.conversation_key)
        .where(inbound_updates.c.status == InboundStatus.PENDING.value)
        .order_by(inbound_updates.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if postgresql:
        claimable = _claimable_on_postgresql(candidates)
    else:  # one writer at a time: the claim holds SQLite's write lock until commit
        claimable = select(candidates.subquery("candidate").c.id)
    chosen = claimable.cte("claimable").prefix_with("MATERIALIZED")
    return (
        inbound_updates.update()
        .where(inbound_updates.c.id.in_(select(chosen.c.id)))
        .where(inbound_updates.c.status == InboundStatus.PENDING.value)
        .values(status=inbound_updates.c.status)
        .returning(inbound_updates)
    )


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = PerDialect(_build_add)
_CLAIM_PENDING = {"postgresql": _build_claim(True), "sqlite": _build_claim(False)}
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
        self,
        channel: Channel,
        external_key: str,
        payload: dict[str, Any],
        at: datetime,
        *,
        conversation_key: str | None = None,
    ) -> InboundUpdate | None:
        params = {
            "channel": channel.value,
            "external_key": external_key,
            "payload": payload,
            "received_at": at,
            "conversation_key": conversation_key,
        }
        row = (await self._conn.execute(_ADD.of(self._conn), params)).first()
        return _to_update(row) if row is not None else None

    async def claim_pending(self, limit: int) -> list[InboundUpdate]:
        """Pending updates, oldest first, held by this unit of work until it ends.

        There is no "processing" status: the claim is a lock. The statement is a no-op UPDATE
        rather than a SELECT so that SQLite takes its write lock here (a plain SELECT does not
        even start a transaction with the sqlite3 driver), making a second worker wait until
        this one commits its `mark` calls; on PostgreSQL FOR UPDATE SKIP LOCKED lets a second
        worker take the next rows instead, skipping conversations another worker holds.
        """
        if limit <= 0:
            return []
        statement = _CLAIM_PENDING[self._conn.dialect.name]
        claimed = [_to_update(row) for row in await self._conn.execute(statement, {"limit": limit})]
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
