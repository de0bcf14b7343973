"""`ReportService`: the reports, read through the unit of work's report queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.analytics.drivers import article_demand, cluster_questions
from bot.analytics.funnels import FunnelFacts, StepKey, build_funnel_reports, parse_button_press
from bot.analytics.model import (
    DriversReport,
    FunnelsReport,
    GroupBy,
    RetentionReport,
    RetentionRow,
    ScoreRow,
    ScoresReport,
    ServiceReport,
    TrendPoint,
)
from bot.analytics.period import Bucket, Period, parse_period, zone_named
from bot.analytics.service_metrics import (
    ServiceFacts,
    build_service_report,
    scores,
    survey_group_key,
)
from bot.analytics.stats import Rate
from bot.analytics.trends import csat_trend, first_response_trend
from bot.domain.clock import Clock
from bot.domain.report_ports import ReportRepository, ReportUnitOfWork

UNANSWERED_READ = 20_000  # the newest unanswered questions clustered; older ones add little
StepOrder = Mapping[str, Sequence[str]]


class ReportService:
    """Every report of `docs/reports.md`. Read-only: it never commits.

    `step_order` gives each funnel's step ids in file order (the funnel chart's bars); without
    it steps come in the order they were first logged.
    """

    def __init__(
        self,
        uow: Callable[[], ReportUnitOfWork],
        clock: Clock,
        zone: str | ZoneInfo = "UTC",
        step_order: Callable[[], StepOrder] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.zone = zone if isinstance(zone, ZoneInfo) else zone_named(zone)
        self._step_order = step_order

    def period(
        self, since: str | None = None, first: str | None = None, last: str | None = None
    ) -> Period:
        """`since="30d"`, or local dates `first`/`last` ("2026-11-30"), in the service's zone;
        the last 30 days by default. Raises PeriodError with a sentence for bad input."""
        return parse_period(self._clock.now(), self.zone, since, first, last)

    async def funnels(self, period: Period) -> FunnelsReport:
        start, end = period.start, period.end
        async with self._uow() as uow:
            reports = uow.reports
            facts = FunnelFacts(
                steps=await reports.funnel_step_counts(start, end),
                outcomes=await reports.funnel_outcomes(start, end),
                timings=await reports.goal_timings(start, end),
                pressed=await _button_presses(reports, period),
                deliveries=await reports.step_deliveries(start, end),
            )
        order = self._step_order() if self._step_order is not None else None
        return FunnelsReport(period, build_funnel_reports(facts, order))

    async def service(self, period: Period, by: GroupBy | None = None) -> ServiceReport:
        start, end = period.start, period.end
        async with self._uow() as uow:
            reports = uow.reports
            facts = ServiceFacts(
                handoffs=await reports.handoffs(start, end),
                surveys=await reports.survey_answers(start, end),
                conversations=await reports.conversations_by_channel(start, end),
                self_service=await reports.self_service(start, end),
            )
        return build_service_report(period, by, facts)

    async def scores(self, period: Period, by: GroupBy | None = None) -> ScoresReport:
        async with self._uow() as uow:
            answers = await uow.reports.survey_answers(period.start, period.end)
        groups: list[ScoreRow] = []
        if by is not None:
            key = survey_group_key(by)
            names = sorted({key(a) for a in answers})
            groups = [ScoreRow(n, scores(a for a in answers if key(a) == n)) for n in names]
        return ScoresReport(period, by, scores(answers), groups)

    async def drivers(self, period: Period, limit: int = 10) -> DriversReport:
        async with self._uow() as uow:
            articles = await uow.reports.article_counts(period.start, period.end)
            questions = await uow.reports.unanswered_questions(
                period.start, period.end, UNANSWERED_READ
            )
        clusters = cluster_questions(questions, limit)
        return DriversReport(period, article_demand(articles, limit), clusters, len(questions))

    async def retention(
        self, period: Period, quiet_for: timedelta = timedelta(days=30)
    ) -> RetentionReport:
        """Contacts created in the period, by their first funnel: how many sent no message and
        paid no order in the `quiet_for` before the period's end."""
        async with self._uow() as uow:
            counts = await uow.reports.retention(period.start, period.end, period.end - quiet_for)
        rows = [
            RetentionRow(c.origin_funnel_id, Rate(c.quiet, c.contacts))
            for c in sorted(counts, key=lambda c: (c.origin_funnel_id is None, c.origin_funnel_id))
        ]
        return RetentionReport(period, quiet_for.days, rows)

    async def csat_trend(self, period: Period, bucket: Bucket = Bucket.DAY) -> list[TrendPoint]:
        """CSAT % per day (or week) of the period; a bucket without answers has value None."""
        async with self._uow() as uow:
            answers = await uow.reports.survey_answers(period.start, period.end)
        return csat_trend(period, answers, bucket)

    async def first_response_trend(
        self, period: Period, bucket: Bucket = Bucket.DAY
    ) -> list[TrendPoint]:
        """Median first response time (seconds) per day (or week) of `requested_at`."""
        async with self._uow() as uow:
            handoffs = await uow.reports.handoffs(period.start, period.end)
        return first_response_trend(period, handoffs, bucket)


async def _button_presses(reports: ReportRepository, period: Period) -> dict[StepKey, int]:
    """Enrollments of the cohort that pressed a button of each step (each counted once)."""
    pressed = {
        found
        for text in await reports.button_press_texts(period.start)
        if (found := parse_button_press(text)) is not None
    }
    origins = await reports.enrollment_origins(
        sorted({enrollment for enrollment, _ in pressed}), period.start, period.end
    )
    counts: Counter[StepKey] = Counter()
    for enrollment, step_id in pressed:
        origin = origins.get(enrollment)
        if origin is not None:
            counts[(origin.funnel_id, step_id)] += 1
    return dict(counts)
