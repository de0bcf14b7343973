"""Hand-offs: spells of a conversation in human hands, and the queue they wait in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, select

from bot.domain.handoff import CloseReason, Handoff, HandoffReason, HandoffStatus
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.tables import handoffs

_OPEN_STATUSES = [status.value for status in HandoffStatus if status.is_open]

# Every column a hand-off's life changes. The conversation and the contact are its identity:
# they are written once by `add` (and the contact moved by a merge), never by `update`, so a
# hand-off read before a merge cannot put the old contact back.
_MUTABLE = (
    "team",
    "language",
    "reason",
    "status",
    "priority",
    "requested_at",
    "sla_due_at",
    "agent_id",
    "offered_at",
    "offer_expires_at",
    "declined_by",
    "taken_at",
    "first_response_at",
    "sla_breached_at",
    "last_activity_at",
    "closed_at",
    "closed_by",
    "close_reason",
    "desk_chat_id",
    "desk_thread_id",
    "desk_title",
    "summary",
)

# The queue's order: higher priority first, then the oldest request (id breaks ties).
_QUEUE_ORDER = (handoffs.c.priority.desc(), handoffs.c.requested_at, handoffs.c.id)


def _limited(statement: Select[Any]) -> Select[Any]:
    return statement.limit(bindparam("limit", type_=Integer))


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = (
    handoffs.insert()
    .values(binds(handoffs, "conversation_id", "contact_id", *_MUTABLE))
    .returning(handoffs)
)
_GET = select(handoffs).where(handoffs.c.id == bindparam("handoff_id"))
_OPEN_FOR_CONVERSATION = (
    select(handoffs)
    .where(
        handoffs.c.conversation_id == bindparam("of_conversation"),
        handoffs.c.status.in_(_OPEN_STATUSES),
    )
    # At most one should be open; if a bug ever opened two, the newest is the live one.
    .order_by(handoffs.c.id.desc())
    .limit(1)
)
_LATEST_FOR_CONVERSATION = (
    select(handoffs)
    .where(handoffs.c.conversation_id == bindparam("of_conversation"))
    .order_by(handoffs.c.id.desc())
    .limit(1)
)
_BY_DESK_THREAD = (
    select(handoffs)
    .where(
        handoffs.c.desk_chat_id == bindparam("chat_id"),
        handoffs.c.desk_thread_id == bindparam("thread_id"),
    )
    .order_by(handoffs.c.id.desc())
    .limit(1)
)
_UPDATE = (
    handoffs.update()
    .where(handoffs.c.id == bindparam("handoff_id"))
    .values(binds(handoffs, *_MUTABLE))
)
# The compare-and-set: on PostgreSQL a second UPDATE of the row waits for the first
# transaction, then re-checks the status it committed; SQLite has one writer at a time.
_TRANSITION = _UPDATE.where(handoffs.c.status.in_(bindparam("expected", expanding=True)))
_OPEN = _limited(
    select(handoffs).where(handoffs.c.status.in_(_OPEN_STATUSES)).order_by(*_QUEUE_ORDER)
)
_OPEN_FOR_AGENT = (
    select(handoffs)
    .where(handoffs.c.agent_id == bindparam("of_agent"), handoffs.c.status.in_(_OPEN_STATUSES))
    .order_by(*_QUEUE_ORDER)
)
_QUEUED = _limited(
    select(handoffs).where(handoffs.c.status == HandoffStatus.QUEUED.value).order_by(*_QUEUE_ORDER)
)
_OFFERS_EXPIRED = _limited(
    select(handoffs)
    .where(
        handoffs.c.status == HandoffStatus.OFFERED.value,
        handoffs.c.offer_expires_at <= bindparam("now"),
    )
    .order_by(handoffs.c.offer_expires_at, handoffs.c.id)
)
_SLA_BREACHES_DUE = _limited(
    select(handoffs)
    .where(
        handoffs.c.status.in_(_OPEN_STATUSES),
        handoffs.c.sla_due_at <= bindparam("now"),
        handoffs.c.first_response_at.is_(None),
        handoffs.c.sla_breached_at.is_(None),
    )
    .order_by(handoffs.c.sla_due_at, handoffs.c.id)
)
_IDLE_SINCE = _limited(
    select(handoffs)
    .where(
        handoffs.c.status == HandoffStatus.ACTIVE.value,
        handoffs.c.last_activity_at <= bindparam("before"),
    )
    .order_by(handoffs.c.last_activity_at, handoffs.c.id)
)
_RECENT_CLOSED = _limited(
    select(handoffs)
    .where(handoffs.c.status == HandoffStatus.CLOSED.value)
    .order_by(handoffs.c.closed_at.desc(), handoffs.c.id.desc())
)


def _to_handoff(row: Row[Any]) -> Handoff:
    return Handoff(
        id=row.id,
        conversation_id=row.conversation_id,
        contact_id=row.contact_id,
        team=row.team,
        language=row.language,
        reason=HandoffReason(row.reason),
        status=HandoffStatus(row.status),
        priority=row.priority,
        requested_at=row.requested_at,
        sla_due_at=row.sla_due_at,
        agent_id=row.agent_id,
        offered_at=row.offered_at,
        offer_expires_at=row.offer_expires_at,
        declined_by=[int(agent_id) for agent_id in row.declined_by],
        taken_at=row.taken_at,
        first_response_at=row.first_response_at,
        sla_breached_at=row.sla_breached_at,
        last_activity_at=row.last_activity_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        close_reason=CloseReason(row.close_reason) if row.close_reason is not None else None,
        desk_chat_id=row.desk_chat_id,
        desk_thread_id=row.desk_thread_id,
        desk_title=row.desk_title,
        summary=row.summary,
    )


def _mutable_params(handoff: Handoff) -> dict[str, Any]:
    """The values of `_MUTABLE`, exactly those keys (see the traps in `_base`)."""
    return {
        "team": handoff.team,
        "language": handoff.language,
        "reason": handoff.reason.value,
        "status": handoff.status.value,
        "priority": handoff.priority,
        "requested_at": handoff.requested_at,
        "sla_due_at": handoff.sla_due_at,
        "agent_id": handoff.agent_id,
        "offered_at": handoff.offered_at,
        "offer_expires_at": handoff.offer_expires_at,
        "declined_by": list(handoff.declined_by),
        "taken_at": handoff.taken_at,
        "first_response_at": handoff.first_response_at,
        "sla_breached_at": handoff.sla_breached_at,
        "last_activity_at": handoff.last_activity_at,
        "closed_at": handoff.closed_at,
        "closed_by": handoff.closed_by,
        "close_reason": handoff.close_reason.value if handoff.close_reason else None,
        "desk_chat_id": handoff.desk_chat_id,
        "desk_thread_id": handoff.desk_thread_id,
        "desk_title": handoff.desk_title,
        "summary": handoff.summary,
    }


class SqlHandoffRepository(SqlRepository):
    async def add(self, handoff: Handoff) -> Handoff:
        params = _mutable_params(handoff)
        params.update(conversation_id=handoff.conversation_id, contact_id=handoff.contact_id)
        return _to_handoff((await self._conn.execute(_ADD, params)).one())

    async def get(self, handoff_id: int) -> Handoff | None:
        row = (await self._conn.execute(_GET, {"handoff_id": handoff_id})).first()
        return _to_handoff(row) if row is not None else None

    async def open_for_conversation(self, conversation_id: int) -> Handoff | None:
        params = {"of_conversation": conversation_id}
        row = (await self._conn.execute(_OPEN_FOR_CONVERSATION, params)).first()
        return _to_handoff(row) if row is not None else None

    async def latest_for_conversation(self, conversation_id: int) -> Handoff | None:
        params = {"of_conversation": conversation_id}
        row = (await self._conn.execute(_LATEST_FOR_CONVERSATION, params)).first()
        return _to_handoff(row) if row is not None else None

    async def by_desk_thread(self, chat_id: int, thread_id: int) -> Handoff | None:
        params = {"chat_id": chat_id, "thread_id": thread_id}
        row = (await self._conn.execute(_BY_DESK_THREAD, params)).first()
        return _to_handoff(row) if row is not None else None

    async def update(self, handoff: Handoff) -> None:
        """Write every field back except the conversation and the contact (see `_MUTABLE`)."""
        params = {"handoff_id": handoff.id, **_mutable_params(handoff)}
        await self._conn.execute(_UPDATE, params)

    async def transition(
        self, handoff_id: int, expected: tuple[HandoffStatus, ...], handoff: Handoff
    ) -> bool:
        if not expected:
            return False
        params = {
            "handoff_id": handoff_id,
            "expected": [status.value for status in expected],
            **_mutable_params(handoff),
        }
        return (await self._conn.execute(_TRANSITION, params)).rowcount == 1

    async def open(self, limit: int = 500) -> list[Handoff]:
        return await self._many(_OPEN, {"limit": limit})

    async def open_for_agent(self, agent_id: int) -> list[Handoff]:
        """The agent's open hand-offs, in queue order."""
        return await self._many(_OPEN_FOR_AGENT, {"of_agent": agent_id})

    async def queued(self, limit: int = 100) -> list[Handoff]:
        return await self._many(_QUEUED, {"limit": limit})

    async def offers_expired(self, now: datetime, limit: int = 100) -> list[Handoff]:
        """Soonest expired first."""
        return await self._many(_OFFERS_EXPIRED, {"now": now, "limit": limit})

    async def sla_breaches_due(self, now: datetime, limit: int = 100) -> list[Handoff]:
        """Earliest due first."""
        return await self._many(_SLA_BREACHES_DUE, {"now": now, "limit": limit})

    async def idle_since(self, before: datetime, limit: int = 100) -> list[Handoff]:
        """Quiet the longest first; a hand-off with no recorded activity is never idle."""
        return await self._many(_IDLE_SINCE, {"before": before, "limit": limit})

    async def recent_closed(self, limit: int = 50) -> list[Handoff]:
        return await self._many(_RECENT_CLOSED, {"limit": limit})

    async def _many(self, statement: Select[Any], params: dict[str, Any]) -> list[Handoff]:
        return [_to_handoff(row) for row in await self._conn.execute(statement, params)]
