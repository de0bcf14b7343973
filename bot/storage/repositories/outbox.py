"""The outbox: one row per message to send, claimed by the dispatcher."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.clock import Clock
from bot.domain.model import (
    Button,
    Channel,
    OutboundDraft,
    OutboundKind,
    OutboundMessage,
    OutboxStatus,
)
from bot.storage.repositories._base import SqlRepository, dialect_insert
from bot.storage.tables import outbox

STALE_SENDING_REASON = "process stopped during send; outcome unknown"

_MARKETING_KINDS = [kind.value for kind in OutboundKind if kind.is_marketing]
_OPEN_STATUSES = [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]


def _buttons_to_json(buttons: list[list[Button]]) -> list[list[dict[str, str]]]:
    # Only the fields that are set: keeps rows small and readable in a SQL shell.
    return [
        [
            {
                name: value
                for name, value in (
                    ("text", button.text),
                    ("url", button.url),
                    ("callback_data", button.callback_data),
                )
                if value is not None
            }
            for button in row
        ]
        for row in buttons
    ]


def _buttons_from_json(data: list[list[dict[str, Any]]]) -> list[list[Button]]:
    return [
        [
            Button(text=item["text"], url=item.get("url"), callback_data=item.get("callback_data"))
            for item in row
        ]
        for row in data
    ]


def _to_outbound(row: Row[Any]) -> OutboundMessage:
    return OutboundMessage(
        id=row.id,
        key=row.key,
        contact_id=row.contact_id,
        channel=Channel(row.channel),
        address=row.address,
        text=row.text,
        kind=OutboundKind(row.kind),
        status=OutboxStatus(row.status),
        not_before=row.not_before,
        created_at=row.created_at,
        conversation_id=row.conversation_id,
        buttons=_buttons_from_json(row.buttons),
        thread_id=row.thread_id,
        attempts=row.attempts,
        reason=row.reason,
        channel_message_id=row.channel_message_id,
        sent_at=row.sent_at,
    )


class SqlOutboxRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        super().__init__(conn)
        self._clock = clock

    async def add(self, draft: OutboundDraft, at: datetime) -> OutboundMessage | None:
        stmt = (
            dialect_insert(self._conn, outbox)
            .values(
                key=draft.key,
                contact_id=draft.contact_id,
                conversation_id=draft.conversation_id,
                channel=draft.channel.value,
                address=draft.address,
                thread_id=draft.thread_id,
                text=draft.text,
                buttons=_buttons_to_json(draft.buttons),
                kind=draft.kind.value,
                status=OutboxStatus.PENDING.value,
                not_before=draft.not_before or at,
                attempts=0,
                created_at=at,
                updated_at=at,
            )
            .on_conflict_do_nothing(index_elements=[outbox.c.key])
            .returning(outbox)
        )
        row = (await self._conn.execute(stmt)).first()
        return _to_outbound(row) if row is not None else None

    async def get(self, outbox_id: int) -> OutboundMessage | None:
        row = (await self._conn.execute(select(outbox).where(outbox.c.id == outbox_id))).first()
        return _to_outbound(row) if row is not None else None

    async def get_by_key(self, key: str) -> OutboundMessage | None:
        row = (await self._conn.execute(select(outbox).where(outbox.c.key == key))).first()
        return _to_outbound(row) if row is not None else None

    async def claim_due(self, now: datetime, limit: int) -> list[OutboundMessage]:
        if limit <= 0:
            return []
        # One UPDATE ... WHERE id IN (SELECT ...) RETURNING: on PostgreSQL the sub-select locks
        # its rows and skips rows another worker holds; SQLite drops FOR UPDATE but runs the
        # whole statement under its single write lock. Either way no row is claimed twice.
        due = (
            select(outbox.c.id)
            .where(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.not_before <= now)
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(outbox)
            .where(outbox.c.id.in_(due))
            .values(status=OutboxStatus.SENDING.value, updated_at=now)
            .returning(outbox)
        )
        claimed = [_to_outbound(row) for row in await self._conn.execute(stmt)]
        # RETURNING has no defined order.
        return sorted(claimed, key=lambda message: message.id)

    async def finish(
        self,
        outbox_id: int,
        status: OutboxStatus,
        at: datetime,
        reason: str | None = None,
        channel_message_id: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status.value, "updated_at": at, "reason": reason}
        if channel_message_id is not None:
            values["channel_message_id"] = channel_message_id
        if status is OutboxStatus.SENT:
            values["sent_at"] = at
        await self._conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(values))

    async def reschedule(
        self, outbox_id: int, not_before: datetime, reason: str | None, attempt: bool
    ) -> None:
        stmt = (
            update(outbox)
            # A row already SENT/FAILED/... is never put back in the queue: that would send twice.
            .where(outbox.c.id == outbox_id, outbox.c.status.in_(_OPEN_STATUSES))
            .values(
                status=OutboxStatus.PENDING.value,
                not_before=not_before,
                reason=reason,
                attempts=outbox.c.attempts + (1 if attempt else 0),
                updated_at=self._clock.now(),
            )
        )
        await self._conn.execute(stmt)

    async def suppress_pending_for_contact(
        self, contact_id: int, reason: str, at: datetime, marketing_only: bool
    ) -> int:
        stmt = update(outbox).where(
            outbox.c.contact_id == contact_id,
            outbox.c.status == OutboxStatus.PENDING.value,
        )
        if marketing_only:
            stmt = stmt.where(outbox.c.kind.in_(_MARKETING_KINDS))
        stmt = stmt.values(status=OutboxStatus.SUPPRESSED.value, reason=reason, updated_at=at)
        return (await self._conn.execute(stmt)).rowcount

    async def mark_stale_sending_unknown(self, at: datetime) -> int:
        # Meant for start-up, before this process's dispatcher runs: every SENDING row then
        # belongs to a process that is gone, and resending could deliver a message twice.
        stmt = (
            update(outbox)
            .where(outbox.c.status == OutboxStatus.SENDING.value)
            .values(status=OutboxStatus.UNKNOWN.value, reason=STALE_SENDING_REASON, updated_at=at)
        )
        return (await self._conn.execute(stmt)).rowcount

    async def count_by_status(self) -> dict[OutboxStatus, int]:
        """Every status, with 0 for the ones that have no rows (handy for metrics)."""
        stmt = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        counts = dict.fromkeys(OutboxStatus, 0)
        for status, count in await self._conn.execute(stmt):
            counts[OutboxStatus(status)] = count
        return counts
