"""Report queries of the funnels and the knowledge base (see `reports.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.report_ports import (
    ArticleCount,
    EnrollmentOrigin,
    FunnelOutcomeCount,
    FunnelStepCount,
    GoalTiming,
    UnansweredQuestion,
)
from bot.storage.repositories._base import SqlRepository
from bot.storage.tables import (
    enrollments,
    funnel_log,
    kb_interactions,
    messages,
)
from bot.storage.types import UTCDateTime

ANY_KIND = "*"  # `FunnelStepCount.kind` of "any kind": the enrollments that reached the step
BUTTON_PRESS = "[button] fn:%"  # how a funnel button press is stored as the customer's message
_ORIGIN_CHUNK = 500


def between(column: Any) -> ColumnElement[bool]:
    """`start <= column < end`: the period, as a range of the column's index."""
    return and_(
        column >= bindparam("start", type_=UTCDateTime()),
        column < bindparam("end", type_=UTCDateTime()),
    )


# --- funnels: the cohort of enrollments that entered in the period --------------------------

_COHORT = between(enrollments.c.entered_at)
_LOG_JOIN = funnel_log.join(enrollments, enrollments.c.id == funnel_log.c.enrollment_id)


def _step_counts(kind: Any, *group: Any) -> Any:
    return (
        select(
            enrollments.c.funnel_id,
            enrollments.c.variant,
            funnel_log.c.step_id,
            kind.label("kind"),
            func.count(funnel_log.c.enrollment_id.distinct()).label("enrollments"),
            func.min(funnel_log.c.id).label("first_log_id"),
        )
        .select_from(_LOG_JOIN)
        .where(_COHORT)
        .group_by(enrollments.c.funnel_id, enrollments.c.variant, funnel_log.c.step_id, *group)
    )


_STEP_COUNTS = union_all(
    _step_counts(funnel_log.c.kind, funnel_log.c.kind),
    _step_counts(literal(ANY_KIND, String)),
)
_GOAL = exists().where(funnel_log.c.enrollment_id == enrollments.c.id, funnel_log.c.kind == "goal")
_OUTCOME_ROWS = (
    select(
        enrollments.c.funnel_id,
        enrollments.c.variant,
        enrollments.c.status,
        enrollments.c.end_reason,
        enrollments.c.step_id,
        case((_GOAL, 1), else_=0).label("goal"),
    )
    .where(_COHORT)
    .subquery()
)
_OUTCOMES = select(*_OUTCOME_ROWS.c, func.count().label("enrollments")).group_by(*_OUTCOME_ROWS.c)
_GOAL_TIMINGS = (
    select(
        enrollments.c.funnel_id,
        enrollments.c.variant,
        enrollments.c.entered_at,
        func.min(funnel_log.c.at).label("reached_at"),
    )
    .select_from(_LOG_JOIN)
    .where(_COHORT, funnel_log.c.kind == "goal")
    .group_by(enrollments.c.id, enrollments.c.funnel_id, enrollments.c.variant,
              enrollments.c.entered_at)
)  # fmt: skip
_BUTTON_TEXTS = select(messages.c.text).where(
    messages.c.direction == "in",
    messages.c.created_at >= bindparam("since", type_=UTCDateTime()),
    messages.c.text.like(BUTTON_PRESS),
)
_ORIGINS = select(enrollments.c.id, enrollments.c.funnel_id, enrollments.c.variant).where(
    enrollments.c.id.in_(bindparam("ids", expanding=True)), _COHORT
)

# --- knowledge base ---------------------------------------------------------------------------

_ARTICLES = (
    select(
        kb_interactions.c.article_id,
        func.count().label("asked"),
        func.coalesce(func.sum(case((kb_interactions.c.helpful == true(), 1), else_=0)), 0),
        func.coalesce(func.sum(case((kb_interactions.c.helpful == false(), 1), else_=0)), 0),
    )
    .where(
        between(kb_interactions.c.created_at),
        kb_interactions.c.decision == "answered",
        kb_interactions.c.article_id.is_not(None),
    )
    .group_by(kb_interactions.c.article_id)
)
_UNANSWERED = (
    select(kb_interactions.c.question, kb_interactions.c.language)
    .where(between(kb_interactions.c.created_at), kb_interactions.c.decision == "no_answer")
    .order_by(kb_interactions.c.created_at.desc(), kb_interactions.c.id.desc())
    .limit(bindparam("limit", type_=Integer))
)


class SqlFunnelReportQueries(SqlRepository):
    """The funnel and knowledge-base part of `ReportRepository`."""

    async def _rows(self, statement: Any, **params: Any) -> list[Any]:
        return list(await self._conn.execute(statement, params))

    async def funnel_step_counts(self, start: datetime, end: datetime) -> list[FunnelStepCount]:
        rows = await self._rows(_STEP_COUNTS, start=start, end=end)
        return [FunnelStepCount(*row) for row in rows]

    async def funnel_outcomes(self, start: datetime, end: datetime) -> list[FunnelOutcomeCount]:
        rows = await self._rows(_OUTCOMES, start=start, end=end)
        return [
            FunnelOutcomeCount(r.funnel_id, r.variant, r.status, r.end_reason, r.step_id,
                               bool(r.goal), r.enrollments)
            for r in rows
        ]  # fmt: skip

    async def goal_timings(self, start: datetime, end: datetime) -> list[GoalTiming]:
        rows = await self._rows(_GOAL_TIMINGS, start=start, end=end)
        return [GoalTiming(*row) for row in rows]

    async def button_press_texts(self, since: datetime) -> list[str]:
        return [row.text for row in await self._rows(_BUTTON_TEXTS, since=since)]

    async def enrollment_origins(
        self, enrollment_ids: list[int], start: datetime, end: datetime
    ) -> dict[int, EnrollmentOrigin]:
        found: dict[int, EnrollmentOrigin] = {}
        for first in range(0, len(enrollment_ids), _ORIGIN_CHUNK):
            ids = enrollment_ids[first : first + _ORIGIN_CHUNK]
            for row in await self._rows(_ORIGINS, ids=ids, start=start, end=end):
                found[row.id] = EnrollmentOrigin(row.funnel_id, row.variant)
        return found

    async def article_counts(self, start: datetime, end: datetime) -> list[ArticleCount]:
        rows = await self._rows(_ARTICLES, start=start, end=end)
        return [ArticleCount(r[0], r[1], int(r[2]), int(r[3])) for r in rows]

    async def unanswered_questions(
        self, start: datetime, end: datetime, limit: int
    ) -> list[UnansweredQuestion]:
        rows = await self._rows(_UNANSWERED, start=start, end=end, limit=limit)
        return [UnansweredQuestion(r.question, r.language) for r in rows]
