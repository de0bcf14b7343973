"""Report queries of the funnels and the knowledge base (see `reports.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.model import OutboxStatus
from bot.domain.report_ports import (
    ArticleCount,
    Delivery,
    EnrollmentOrigin,
    FunnelOutcomeCount,
    FunnelStepCount,
    GoalTiming,
    StepDeliveryCount,
    UnansweredQuestion,
)
from bot.storage.repositories._base import SqlRepository
from bot.storage.tables import (
    enrollments,
    funnel_log,
    kb_interactions,
    messages,
    outbox,
)
from bot.storage.types import UTCDateTime

# How a funnel button press is stored as the customer's message. A literal, not a parameter:
# it is also the condition of the partial index that finds these messages (migration 0011).
BUTTON_PRESS = literal_column("'[button] fn:%'", String)
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


def _has(*kinds: str) -> Any:
    """1 when the enrollment has a row of one of `kinds` at the step (per group below)."""
    return func.max(case((or_(*(funnel_log.c.kind == kind for kind in kinds)), 1), else_=0))


# One pass over the cohort's log: first per enrollment and step, then per step. Counting
# DISTINCT enrollments per kind instead would sort the joined rows once per kind.
_PER_ENROLLMENT_STEP = (
    select(
        enrollments.c.funnel_id,
        enrollments.c.variant,
        funnel_log.c.step_id,
        _has("sent", "notified").label("queued"),
        _has("button").label("button"),
        _has("replied").label("replied"),
        _has("goal").label("goal"),
        func.min(funnel_log.c.id).label("first_log_id"),
    )
    .select_from(_LOG_JOIN)
    .where(_COHORT)
    .group_by(enrollments.c.id, funnel_log.c.step_id)  # funnel and variant follow from the id
    .subquery()
)
_STEPS = _PER_ENROLLMENT_STEP.c
_STEP_COUNTS = select(
    _STEPS.funnel_id,
    _STEPS.variant,
    _STEPS.step_id,
    func.count().label("reached"),
    func.sum(_STEPS.queued),
    func.sum(_STEPS.button),
    func.sum(_STEPS.replied),
    func.sum(_STEPS.goal),
    func.min(_STEPS.first_log_id),
).group_by(_STEPS.funnel_id, _STEPS.variant, _STEPS.step_id)

# What became of each step's message, per enrollment of the cohort: its outbox rows (a long
# text's parts, or the step sent again in a loop) ranked by `Delivery`'s order, the highest
# decides. The cohort's enrollments are walked by `entered_at`, their rows found through the
# partial index on (enrollment_id, step_id, status), in (enrollment, step) order.
_RANKED = (
    (Delivery.FAILED, 5, (OutboxStatus.FAILED,)),
    (Delivery.SUPPRESSED, 4, (OutboxStatus.SUPPRESSED,)),
    (Delivery.UNKNOWN, 3, (OutboxStatus.UNKNOWN,)),
    (Delivery.PENDING, 2, (OutboxStatus.PENDING, OutboxStatus.SENDING)),
    (Delivery.DELIVERED, 1, (OutboxStatus.SENT,)),
)
_DELIVERY_OF_RANK = {rank: delivery for delivery, rank, _statuses in _RANKED}
_RANK_OF_DELIVERY = {delivery: rank for delivery, rank, _statuses in _RANKED}
# `CASE status WHEN ...`, the usual status (sent) first: the rank of most rows is found by the
# first comparison. A status this code does not know: what became of the message is unknown.
_RANK_OF_STATUS = case(
    dict(sorted(((status.value, rank) for _, rank, statuses in _RANKED for status in statuses),
                key=lambda item: item[0] != OutboxStatus.SENT.value)),
    value=outbox.c.status,
    else_=_RANK_OF_DELIVERY[Delivery.UNKNOWN],
)  # fmt: skip
_MESSAGE_RANK = func.max(_RANK_OF_STATUS)
_REASON_ROW = outbox.alias("reason_row")
ReasonOf = Callable[[OutboxStatus], Any]


def _reason_read_apart(status: OutboxStatus) -> Any:
    """SQLite: the reason of the message's rows with `status` (the first by text), read for the
    few failed or suppressed messages only; the ranking is answered by the index alone."""
    return (
        select(func.min(_REASON_ROW.c.reason))
        .where(
            _REASON_ROW.c.enrollment_id == enrollments.c.id,
            _REASON_ROW.c.step_id == outbox.c.step_id,
            _REASON_ROW.c.status == status.value,
        )
        .scalar_subquery()
    )


def _reason_read_along(status: OutboxStatus) -> Any:
    """PostgreSQL: the same, from every row as it is read. Its planner costs the subquery above
    as if it ran for every message, and the JIT compilation that cost sets off took longer than
    the query; an index-only scan needs pages VACUUM has marked, so the rows are read anyway."""
    return func.min(case((outbox.c.status == status.value, outbox.c.reason)))


def _step_deliveries(reason_of: ReasonOf) -> Any:
    rank = _MESSAGE_RANK
    failed, suppressed = (_RANK_OF_DELIVERY[d] for d in (Delivery.FAILED, Delivery.SUPPRESSED))
    per_message = (
        select(
            enrollments.c.funnel_id,
            outbox.c.step_id,
            rank.label("rank"),
            case(
                (rank == failed, reason_of(OutboxStatus.FAILED)),
                (rank == suppressed, reason_of(OutboxStatus.SUPPRESSED)),
            ).label("reason"),
        )
        .select_from(outbox.join(enrollments, enrollments.c.id == outbox.c.enrollment_id))
        .where(_COHORT, outbox.c.enrollment_id.is_not(None))  # the partial index's condition
        .group_by(enrollments.c.id, outbox.c.step_id)  # the funnel follows from the id
        .subquery()
    )
    m = per_message.c
    key = (m.funnel_id, m.step_id, m.rank, m.reason)
    return select(*key, func.count()).group_by(*key)


_STEP_DELIVERIES = {
    "sqlite": _step_deliveries(_reason_read_apart),
    "postgresql": _step_deliveries(_reason_read_along),
}

_OUTCOME_KEY = (
    enrollments.c.funnel_id,
    enrollments.c.variant,
    enrollments.c.status,
    enrollments.c.end_reason,
    enrollments.c.step_id,
)
_OUTCOMES = select(*_OUTCOME_KEY, func.count()).where(_COHORT).group_by(*_OUTCOME_KEY)
# The same, of the enrollments that reached the goal: a join on the goal rows costs a third of
# an EXISTS probe per enrollment of the cohort.
_GOAL_OUTCOMES = (
    select(*_OUTCOME_KEY, func.count(enrollments.c.id.distinct()))
    .select_from(_LOG_JOIN)
    .where(_COHORT, funnel_log.c.kind == "goal")
    .group_by(*_OUTCOME_KEY)
)
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
# Only customers' presses are stored with this prefix, so no direction test: with one, the
# planner would walk every inbound message of the period by the direction index instead.
_BUTTON_TEXTS = select(messages.c.text).where(
    messages.c.created_at >= bindparam("since", type_=UTCDateTime()),
    messages.c.text.like(BUTTON_PRESS),
)
# By primary key alone; the period is checked on the rows. With the period in the WHERE clause,
# PostgreSQL walked the period's index and tested every row against the list of ids.
_ORIGINS = select(
    enrollments.c.id, enrollments.c.funnel_id, enrollments.c.variant, enrollments.c.entered_at
).where(enrollments.c.id.in_(bindparam("ids", expanding=True)))

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
        return [FunnelStepCount(r[0], r[1], r[2], *(int(n) for n in r[3:])) for r in rows]

    async def funnel_outcomes(self, start: datetime, end: datetime) -> list[FunnelOutcomeCount]:
        goal_rows = await self._rows(_GOAL_OUTCOMES, start=start, end=end)
        goals: dict[tuple[Any, ...], int] = {tuple(r[:5]): r[5] for r in goal_rows}
        found = []
        for row in await self._rows(_OUTCOMES, start=start, end=end):
            funnel_id, variant, status, reason, step_id, total = row
            goal = goals.get(tuple(row[:5]), 0)
            for reached, count in ((True, goal), (False, total - goal)):
                if count:
                    found.append(
                        FunnelOutcomeCount(funnel_id, variant, status, reason, step_id, reached,
                                           count)
                    )  # fmt: skip
        return found

    async def step_deliveries(self, start: datetime, end: datetime) -> list[StepDeliveryCount]:
        statement = _STEP_DELIVERIES[self._conn.dialect.name]
        rows = await self._rows(statement, start=start, end=end)
        return [
            StepDeliveryCount(funnel_id, step_id, _DELIVERY_OF_RANK[rank], reason, count)
            for funnel_id, step_id, rank, reason, count in rows
        ]

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
            for row in await self._rows(_ORIGINS, ids=ids):
                if start <= row.entered_at < end:
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
