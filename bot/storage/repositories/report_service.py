"""Report queries of the service (hand-offs, surveys, conversations) and of retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, exists, func, literal, or_, select, union_all

from bot.domain.report_ports import (
    ChannelConversations,
    ContactTouch,
    HandoffFact,
    KbAnswerFact,
    RetentionCount,
    SurveyFact,
)
from bot.storage.repositories._base import SqlRepository
from bot.storage.repositories.funnel_scans import ORDER_PAID
from bot.storage.repositories.report_funnels import between
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

_HANDOFFS = (
    select(
        handoffs.c.contact_id,
        conversations.c.channel,
        handoffs.c.team,
        handoffs.c.agent_id,
        agents.c.name.label("agent_name"),
        handoffs.c.requested_at,
        handoffs.c.first_response_at,
        handoffs.c.closed_at,
        handoffs.c.close_reason,
        handoffs.c.sla_due_at,
        handoffs.c.sla_breached_at,
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
_KB_ANSWERS = (
    select(
        kb_interactions.c.contact_id,
        conversations.c.channel,
        kb_interactions.c.created_at,
        kb_interactions.c.helpful,
    )
    .select_from(
        kb_interactions.join(conversations, conversations.c.id == kb_interactions.c.conversation_id)
    )
    .where(between(kb_interactions.c.created_at), kb_interactions.c.decision == "answered")
)
_TOUCHES = union_all(
    select(handoffs.c.contact_id, handoffs.c.requested_at.label("at"), literal(1).label("h"))
    .where(between(handoffs.c.requested_at)),
    select(conversations.c.contact_id, conversations.c.opened_at, literal(0))
    .where(between(conversations.c.opened_at)),
)  # fmt: skip

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


class SqlServiceReportQueries(SqlRepository):
    """The service and retention part of `ReportRepository`."""

    async def _rows(self, statement: Any, **params: Any) -> list[Any]:
        return list(await self._conn.execute(statement, params))

    async def handoffs(self, start: datetime, end: datetime) -> list[HandoffFact]:
        return [HandoffFact(*row) for row in await self._rows(_HANDOFFS, start=start, end=end)]

    async def survey_answers(self, start: datetime, end: datetime) -> list[SurveyFact]:
        return [SurveyFact(*row) for row in await self._rows(_SURVEYS, start=start, end=end)]

    async def conversations_by_channel(
        self, start: datetime, end: datetime
    ) -> list[ChannelConversations]:
        rows = await self._rows(_CONVERSATIONS, start=start, end=end)
        return [ChannelConversations(r[0], r[1], int(r[2])) for r in rows]

    async def kb_answers(self, start: datetime, end: datetime) -> list[KbAnswerFact]:
        rows = await self._rows(_KB_ANSWERS, start=start, end=end)
        return [KbAnswerFact(*row) for row in rows]

    async def contact_touches(self, start: datetime, end: datetime) -> list[ContactTouch]:
        # The union's `at` has the first SELECT's type (UTCDateTime): aware datetimes on both.
        rows = await self._rows(_TOUCHES, start=start, end=end)
        return sorted((ContactTouch(r[0], r[1], bool(r[2])) for r in rows), key=lambda t: t.at)

    async def retention(
        self, start: datetime, end: datetime, active_since: datetime
    ) -> list[RetentionCount]:
        params = {"start": start, "end": end, "active_since": active_since}
        rows = await self._rows(_RETENTION, **params)
        return [RetentionCount(r[0], r[1], int(r[2] or 0)) for r in rows]
