"""Report queries of the service (hand-offs, surveys, conversations) and of retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, not_, or_, select

from bot.domain.report_ports import (
    ChannelConversations,
    HandoffFact,
    RetentionCount,
    SelfServiceCount,
    SurveyFact,
)
from bot.storage.repositories._base import SqlRepository
from bot.storage.repositories.funnel_scans import ORDER_PAID
from bot.storage.repositories.report_funnels import between
from bot.storage.repositories.report_sql import seconds_between, within_a_week_after
from bot.storage.survey_tables import survey_responses as surveys
from bot.storage.tables import (
    agents,
    api_events,
    contacts,
    conversations,
    enrollments,
    handoffs,
    kb_interactions,
    messages,
)
from bot.storage.types import UTCDateTime

_later = handoffs.alias("later")
_again = conversations.alias("again")
_RESOLVED = ("closed", "back_to_bot")
# The same customer asked for a person again within 7 days after this hand-off was closed.
_ASKED_AGAIN = exists().where(
    _later.c.contact_id == handoffs.c.contact_id,
    _later.c.requested_at > handoffs.c.closed_at,
    within_a_week_after(_later.c.requested_at, handoffs.c.closed_at),
)
_HANDOFFS = (
    select(
        conversations.c.channel,
        handoffs.c.team,
        handoffs.c.agent_id,
        agents.c.name.label("agent_name"),
        handoffs.c.requested_at,
        seconds_between(handoffs.c.requested_at, handoffs.c.first_response_at),
        seconds_between(handoffs.c.requested_at, handoffs.c.closed_at),
        handoffs.c.close_reason,
        handoffs.c.sla_due_at.is_not(None),
        handoffs.c.sla_breached_at.is_not(None),
        case((handoffs.c.closed_at.is_not(None) & _ASKED_AGAIN, 1), else_=0),
    )
    .select_from(
        handoffs.join(conversations, conversations.c.id == handoffs.c.conversation_id).outerjoin(
            agents, agents.c.id == handoffs.c.agent_id
        )
    )
    .where(between(handoffs.c.requested_at))
)
_SURVEYS = (
    select(
        surveys.c.kind,
        surveys.c.score,
        surveys.c.answered_at,
        surveys.c.agent_id,
        agents.c.name.label("agent_name"),
        surveys.c.team,
        surveys.c.funnel_id,
        conversations.c.channel,
    )
    .select_from(
        surveys.outerjoin(agents, agents.c.id == surveys.c.agent_id).outerjoin(
            conversations, conversations.c.id == surveys.c.conversation_id
        )
    )
    .where(between(surveys.c.answered_at), surveys.c.score.is_not(None))
)
_HANDED_OFF = exists().where(handoffs.c.conversation_id == conversations.c.id)
_CONVERSATIONS = (
    select(
        conversations.c.channel,
        func.count(),
        func.coalesce(func.sum(case((_HANDED_OFF, 1), else_=0)), 0),
    )
    .where(between(conversations.c.opened_at))
    .group_by(conversations.c.channel)
)


def _came_back(after: Any) -> Any:
    """The customer of the kb row opened a conversation or asked for a person within 7 days."""
    contact = kb_interactions.c.contact_id
    return or_(
        exists().where(
            _again.c.contact_id == contact,
            _again.c.opened_at > after,
            within_a_week_after(_again.c.opened_at, after),
        ),
        exists().where(
            _later.c.contact_id == contact,
            _later.c.requested_at > after,
            within_a_week_after(_later.c.requested_at, after),
        ),
    )


_RESOLVED_BY_BOT = and_(
    kb_interactions.c.helpful.is_not(False), not_(_came_back(kb_interactions.c.created_at))
)
_SELF_SERVICE = (
    select(
        conversations.c.channel,
        func.count(),
        func.coalesce(func.sum(case((_RESOLVED_BY_BOT, 1), else_=0)), 0),
    )
    .select_from(
        kb_interactions.join(conversations, conversations.c.id == kb_interactions.c.conversation_id)
    )
    .where(between(kb_interactions.c.created_at), kb_interactions.c.decision == "answered")
    .group_by(conversations.c.channel)
)

# --- retention --------------------------------------------------------------------------------

_ACTIVE_SINCE = bindparam("active_since", type_=UTCDateTime())
_FIRST_FUNNEL = (
    select(enrollments.c.funnel_id)
    .where(enrollments.c.contact_id == contacts.c.id)
    .order_by(enrollments.c.id)
    .limit(1)
    .scalar_subquery()
)
_WROTE = exists().where(
    messages.c.contact_id == contacts.c.id,
    messages.c.direction == "in",
    messages.c.created_at >= _ACTIVE_SINCE,
)
_PAID = exists().where(
    api_events.c.contact_id == contacts.c.id,
    api_events.c.type == ORDER_PAID,
    api_events.c.occurred_at >= _ACTIVE_SINCE,
)
_RETENTION_ROWS = (
    select(
        _FIRST_FUNNEL.label("origin"),
        case((or_(_WROTE, _PAID), 0), else_=1).label("quiet"),
    )
    .where(between(contacts.c.created_at))
    .subquery()
)
_RETENTION = select(
    _RETENTION_ROWS.c.origin, func.count(), func.sum(_RETENTION_ROWS.c.quiet)
).group_by(_RETENTION_ROWS.c.origin)


def _ms(seconds: float | None) -> float | None:
    """Seconds to the millisecond: SQLite's `julianday` arithmetic is off by a few µs."""
    return None if seconds is None else round(float(seconds), 3)


class SqlServiceReportQueries(SqlRepository):
    """The service and retention part of `ReportRepository`."""

    async def _rows(self, statement: Any, **params: Any) -> list[Any]:
        return list(await self._conn.execute(statement, params))

    async def handoffs(self, start: datetime, end: datetime) -> list[HandoffFact]:
        rows = await self._rows(_HANDOFFS, start=start, end=end)
        return [
            HandoffFact(r[0], r[1], r[2], r[3], r[4], _ms(r[5]), _ms(r[6]), r[7], bool(r[8]),
                        bool(r[9]), bool(r[10]))
            for r in rows
        ]  # fmt: skip

    async def survey_answers(self, start: datetime, end: datetime) -> list[SurveyFact]:
        return [SurveyFact(*row) for row in await self._rows(_SURVEYS, start=start, end=end)]

    async def conversations_by_channel(
        self, start: datetime, end: datetime
    ) -> list[ChannelConversations]:
        rows = await self._rows(_CONVERSATIONS, start=start, end=end)
        return [ChannelConversations(r[0], r[1], int(r[2])) for r in rows]

    async def self_service(self, start: datetime, end: datetime) -> list[SelfServiceCount]:
        rows = await self._rows(_SELF_SERVICE, start=start, end=end)
        return [SelfServiceCount(r[0], r[1], int(r[2])) for r in rows]

    async def retention(
        self, start: datetime, end: datetime, active_since: datetime
    ) -> list[RetentionCount]:
        params = {"start": start, "end": end, "active_since": active_since}
        rows = await self._rows(_RETENTION, **params)
        return [RetentionCount(r[0], r[1], int(r[2] or 0)) for r in rows]
