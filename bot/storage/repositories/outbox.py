"""The outbox: one row per message to send, claimed by the dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.sql import Executable

from bot.domain.clock import Clock
from bot.domain.model import (
    OutboundDraft,
    OutboundKind,
    OutboundMessage,
    OutboxStatus,
)
from bot.storage.repositories._base import (
    Connection,
    SqlRepository,
    binds,
)
from bot.storage.repositories.outbox_claims import (
    CLAIM,
    SETTLE_EXPIRED,
    STALE_SENDING_REASON,
    settle_params,
)
from bot.storage.repositories.outbox_rows import (
    ADD,
    ADD_MANY,
    ADD_ONE,
    ADDED,
    NEW_ROWS,
    added_values,
    to_outbound,
)
from bot.storage.tables import outbox

__all__ = ["STALE_SENDING_REASON", "SqlOutboxRepository"]

_MARKETING_KINDS = [kind.value for kind in OutboundKind if kind.is_marketing]
_OPEN_STATUSES = [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]


def _finish_statement(with_channel_message_id: bool, sent: bool) -> Executable:
    columns = ["status", "updated_at", "reason"]
    if with_channel_message_id:
        columns.append("channel_message_id")
    if sent:
        columns.append("sent_at")
    return (
        outbox.update().where(outbox.c.id == bindparam("outbox_id")).values(binds(outbox, *columns))
    )


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_GET = select(outbox).where(outbox.c.id == bindparam("outbox_id"))
_GET_BY_KEY = select(outbox).where(outbox.c.key == bindparam("key"))
# The claim (a lease per row, one worker per chat) is in `outbox_claims`.
# By (channel_message_id is given, status is SENT): a column is only set when it has a value.
_FINISH = {
    (with_id, sent): _finish_statement(with_id, sent)
    for with_id in (False, True)
    for sent in (False, True)
}
_RESCHEDULE = (
    outbox.update()
    # A row already SENT/FAILED/... is never put back in the queue: that would send twice.
    .where(outbox.c.id == bindparam("outbox_id"), outbox.c.status.in_(_OPEN_STATUSES))
    .values(binds(outbox, "not_before", "reason", "updated_at"))
    .values(
        status=OutboxStatus.PENDING.value,
        claimed_by=None,
        lease_until=None,
        attempts=outbox.c.attempts + bindparam("failed_attempts", type_=Integer),
    )
)
_SUPPRESS_PENDING = (
    outbox.update()
    .where(
        outbox.c.contact_id == bindparam("of_contact"),
        outbox.c.status == OutboxStatus.PENDING.value,
    )
    .values(binds(outbox, "reason", "updated_at"))
    .values(status=OutboxStatus.SUPPRESSED.value)
)
# By marketing_only.
_SUPPRESS = {
    False: _SUPPRESS_PENDING,
    True: _SUPPRESS_PENDING.where(outbox.c.kind.in_(_MARKETING_KINDS)),
}
_COUNT_BY_STATUS = select(outbox.c.status, func.count()).group_by(outbox.c.status)


class SqlOutboxRepository(SqlRepository):
    def __init__(self, conn: Connection, clock: Clock) -> None:
        super().__init__(conn)
        self._clock = clock

    async def add(self, draft: OutboundDraft, at: datetime) -> OutboundMessage | None:
        params = dict(zip(ADDED, added_values(draft, at), strict=True))
        row = (await self._conn.execute(ADD.of(self._conn), params)).first()
        return to_outbound(row) if row is not None else None

    async def add_many(self, drafts: Sequence[tuple[OutboundDraft, datetime]]) -> dict[str, int]:
        if not drafts:
            return {}
        rows = [added_values(draft, at) for draft, at in drafts]
        dialect = self._conn.dialect
        if len(rows) == 1:
            params = dict(zip(ADDED, rows[0], strict=True))
            result = await self._conn.execute(ADD_ONE.of(self._conn), params)
        else:
            result = await self._conn.execute(
                ADD_MANY[dialect.name], NEW_ROWS.params(dialect, rows)
            )
        return {row.key: row.id for row in result}

    async def get(self, outbox_id: int) -> OutboundMessage | None:
        row = (await self._conn.execute(_GET, {"outbox_id": outbox_id})).first()
        return to_outbound(row) if row is not None else None

    async def get_by_key(self, key: str) -> OutboundMessage | None:
        row = (await self._conn.execute(_GET_BY_KEY, {"key": key})).first()
        return to_outbound(row) if row is not None else None

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        worker: str | None = None,
        lease_until: datetime | None = None,
    ) -> list[OutboundMessage]:
        """Due rows switched to SENDING for `worker` until `lease_until` (see `outbox_claims`).

        Without a lease the rows count as expired at once: right for one process that settles
        whatever it left SENDING when it starts again, wrong for several workers.
        """
        if limit <= 0:
            return []
        params = {
            "now": now,
            "limit": limit,
            "updated_at": now,
            "worker": worker,
            "claimed_by": worker,
            "lease_until": lease_until or now,
        }
        statement = CLAIM[self._conn.dialect.name]
        claimed = [to_outbound(row) for row in await self._conn.execute(statement, params)]
        # RETURNING has no defined order; the claim's is priority, then age.
        return sorted(claimed, key=lambda message: (message.kind.priority, message.id))

    async def finish(
        self,
        outbox_id: int,
        status: OutboxStatus,
        at: datetime,
        reason: str | None = None,
        channel_message_id: str | None = None,
    ) -> None:
        # Only the keys the chosen statement sets: an extra key named like a column would be
        # added to the SET clause by SQLAlchemy.
        params: dict[str, Any] = {
            "outbox_id": outbox_id,
            "status": status.value,
            "updated_at": at,
            "reason": reason,
        }
        if channel_message_id is not None:
            params["channel_message_id"] = channel_message_id
        sent = status is OutboxStatus.SENT
        if sent:
            params["sent_at"] = at
        await self._conn.execute(_FINISH[channel_message_id is not None, sent], params)

    async def mark_sent_many(self, sent: Sequence[tuple[int, str]], at: datetime) -> None:
        if not sent:
            return
        params = [
            {
                "outbox_id": row,
                "status": OutboxStatus.SENT.value,
                "updated_at": at,
                "reason": None,
                "channel_message_id": message,
                "sent_at": at,
            }
            for row, message in sent
        ]
        await self._conn.execute(_FINISH[True, True], params)  # one executemany

    async def reschedule(
        self, outbox_id: int, not_before: datetime, reason: str | None, attempt: bool
    ) -> None:
        params = {
            "outbox_id": outbox_id,
            "not_before": not_before,
            "reason": reason,
            "failed_attempts": 1 if attempt else 0,
            "updated_at": self._clock.now(),
        }
        await self._conn.execute(_RESCHEDULE, params)

    async def suppress_pending_for_contact(
        self, contact_id: int, reason: str, at: datetime, marketing_only: bool
    ) -> int:
        params = {"of_contact": contact_id, "reason": reason, "updated_at": at}
        return (await self._conn.execute(_SUPPRESS[marketing_only], params)).rowcount

    async def mark_stale_sending_unknown(self, at: datetime) -> int:
        """SENDING rows whose lease ended by `at` become UNKNOWN: their worker died mid-send,
        and resending could deliver a message twice. Live workers' rows are left alone."""
        return (await self._conn.execute(SETTLE_EXPIRED, settle_params(at))).rowcount

    async def count_by_status(self) -> dict[OutboxStatus, int]:
        """Every status, with 0 for the ones that have no rows (handy for metrics)."""
        counts = dict.fromkeys(OutboxStatus, 0)
        rows: list[Any] = list(await self._conn.execute(_COUNT_BY_STATUS))
        for status, count in rows:
            counts[OutboxStatus(status)] = int(count)
        return counts
