"""The funnel scans' queries: stalled conversations, contacts gone quiet, lapsed buyers.

Each query walks one index in `(at, id)` order from the caller's position (the `direction,
created_at, id` index of messages, the `type, occurred_at, id` index of api events), keeps the
rows that are the *latest* of their conversation or contact (a NOT EXISTS probe on an index
led by the conversation or contact) and stops after LIMIT rows: the work is bounded by the
batch, not by the size of the tables. The position condition is written
`at >= :at AND (at > :at OR id > :id)` rather than a row-value comparison, so both databases
use its first half as the index range.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.model import ConversationStatus, Direction
from bot.domain.scan_ports import (
    QUESTION_MARKS,
    QuietCandidate,
    ScanPosition,
    StalledCandidate,
)
from bot.storage.repositories._base import SqlRepository
from bot.storage.tables import api_events, conversations, messages
from bot.storage.types import Id

ORDER_PAID = "order_paid"
_BEGINNING = ScanPosition(datetime(1970, 1, 1, tzinfo=UTC), 0)

_later = messages.alias("later")
_later_order = api_events.alias("later_order")


def _window(at: Any, row_id: Any) -> ColumnElement[bool]:
    """Strictly after the position `(:from_at, :from_id)`, at or before `:older_than`."""
    from_at = bindparam("from_at", type_=at.type)
    return and_(
        at >= from_at,
        or_(at > from_at, row_id > bindparam("from_id", type_=Id)),
        at <= bindparam("older_than", type_=at.type),
    )


def _build_stalled(with_status: bool, question_only: bool) -> Select[Any]:
    # Ours is the last word: no message of any kind after it in the conversation.
    last_word = ~exists().where(
        _later.c.conversation_id == messages.c.conversation_id, _later.c.id > messages.c.id
    )
    status = (
        conversations.c.status == bindparam("wanted_status")
        if with_status
        else conversations.c.status != ConversationStatus.CLOSED.value
    )
    conditions = [
        messages.c.direction == Direction.OUTBOUND.value,
        _window(messages.c.created_at, messages.c.id),
        last_word,
        status,
    ]
    if question_only:
        conditions.append(or_(*(messages.c.text.contains(mark) for mark in QUESTION_MARKS)))
    return (
        select(
            messages.c.id,
            messages.c.conversation_id,
            messages.c.contact_id,
            messages.c.created_at,
            messages.c.text,
            conversations.c.status,
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(*conditions)
        .order_by(messages.c.created_at, messages.c.id)
        .limit(bindparam("limit", type_=Integer))
    )


_STALLED = {
    (with_status, question_only): _build_stalled(with_status, question_only)
    for with_status in (False, True)
    for question_only in (False, True)
}

_QUIET = (
    select(messages.c.contact_id, messages.c.id, messages.c.created_at)
    .where(
        messages.c.direction == Direction.INBOUND.value,
        _window(messages.c.created_at, messages.c.id),
        ~exists().where(
            _later.c.contact_id == messages.c.contact_id,
            _later.c.direction == Direction.INBOUND.value,
            _later.c.id > messages.c.id,
        ),
    )
    .order_by(messages.c.created_at, messages.c.id)
    .limit(bindparam("limit", type_=Integer))
)

# "Latest" by occurred_at (when the shop says it was paid; events may arrive out of order),
# the id breaking ties, the same order the walk goes in.
_LAPSED = (
    select(api_events.c.contact_id, api_events.c.id, api_events.c.occurred_at)
    .where(
        api_events.c.type == ORDER_PAID,
        _window(api_events.c.occurred_at, api_events.c.id),
        ~exists().where(
            _later_order.c.contact_id == api_events.c.contact_id,
            _later_order.c.type == ORDER_PAID,
            or_(
                _later_order.c.occurred_at > api_events.c.occurred_at,
                and_(
                    _later_order.c.occurred_at == api_events.c.occurred_at,
                    _later_order.c.id > api_events.c.id,
                ),
            ),
        ),
    )
    .order_by(api_events.c.occurred_at, api_events.c.id)
    .limit(bindparam("limit", type_=Integer))
)


def _params(
    older_than: datetime, after: ScanPosition | None, limit: int, **extra: Any
) -> dict[str, Any]:
    start = after or _BEGINNING
    params = {"from_at": start.at, "from_id": start.id, "older_than": older_than, "limit": limit}
    return {**params, **extra}


class SqlFunnelScanRepository(SqlRepository):
    async def stalled_conversations(
        self,
        older_than: datetime,
        status: ConversationStatus | None,
        question_only: bool,
        after: ScanPosition | None,
        limit: int,
    ) -> list[StalledCandidate]:
        statement = _STALLED[(status is not None, question_only)]
        extra = {"wanted_status": status.value} if status is not None else {}
        rows = await self._conn.execute(statement, _params(older_than, after, limit, **extra))
        return [
            StalledCandidate(
                message_id=row.id,
                conversation_id=row.conversation_id,
                contact_id=row.contact_id,
                status=ConversationStatus(row.status),
                sent_at=row.created_at,
                text=row.text,
            )
            for row in rows
        ]

    async def quiet_contacts(
        self, older_than: datetime, after: ScanPosition | None, limit: int
    ) -> list[QuietCandidate]:
        rows = await self._conn.execute(_QUIET, _params(older_than, after, limit))
        return [QuietCandidate(row.contact_id, row.id, row.created_at) for row in rows]

    async def lapsed_buyers(
        self, older_than: datetime, after: ScanPosition | None, limit: int
    ) -> list[QuietCandidate]:
        rows = await self._conn.execute(_LAPSED, _params(older_than, after, limit))
        return [QuietCandidate(row.contact_id, row.id, row.occurred_at) for row in rows]
