"""Reports computed from stored rows: funnels, service quality, contact drivers, retention.

Pure of transport; reads go through `ReportUnitOfWork.reports` (`bot.domain.report_ports`),
implemented by `bot.storage.repositories.reports`. Definitions of every metric:
`docs/reports.md`.

Build it (the composition root, the CLI or the console):

    service = ReportService(storage.uow, clock, zone="Europe/Chisinau",
                            step_order=lambda: {f.id: [s.id for s in f.steps] for f in catalog})

Entry points (all `async`, read-only; `period` is a `Period`, half-open `[start, end)` UTC):

    service.period(since: str | None = None, first: str | None = None,
                   last: str | None = None) -> Period
        "30d" back from now, or local dates "2026-11-01".."2026-11-30" (both included) in the
        service's zone; the last 30 days by default. Bad input: PeriodError (a ValueError).
    await service.funnels(period) -> FunnelsReport
        .funnels: list[FunnelReport], one per funnel with enrollments entered in the period:
        .entered, .goal (Rate), .steps: list[StepStats] in funnel-file order, each with
        .step_id, .reached (the bar of a narrowing funnel chart), .queued, .pressed, .replied,
        .goal, .dropped and .delivery (StepDelivery: what became of the queued messages:
        .delivered, .failed, .suppressed, .pending, .unknown, and .failure_reasons /
        .suppression_reasons {reason: n}); .worst_step, .exits {reason: n}, .time_to_goal (Spread),
        .variants (VariantStats) and .comparisons (VariantComparison with a ZTest: difference,
        z, p_value, significant).
    await service.service(period, by: GroupBy | None = None) -> ServiceReport
        .total and .groups: list[ServiceRow] with .scores (CSAT Rate, .nps), .first_response
        and .resolution (Spread: count, median, p90 seconds), .handoff_rate, .self_service,
        .first_contact_resolution, .sla_breaches (Rate); None where a metric does not apply.
    await service.scores(period, by: GroupBy | None = None) -> ScoresReport   (CSAT and NPS)
    await service.drivers(period, limit: int = 10) -> DriversReport
        .articles (most asked) and .unanswered (QuestionCluster: example, count, words).
    await service.retention(period, quiet_for: timedelta = 30 days) -> RetentionReport
    await service.csat_trend(period, bucket: Bucket = Bucket.DAY) -> list[TrendPoint]
        CSAT % per local day (or week, from Monday); every bucket of the period is present,
        `value` None where nobody answered. TrendPoint(start: date, value, count).
    await service.first_response_trend(period, bucket: Bucket = Bucket.DAY) -> list[TrendPoint]
        Median first response time in seconds per day (or week) of the request.

`Rate(part, whole)` has `.value` (0..1) and `.percent`, None when `whole` is 0. Every report has
`.empty` (nothing in the period) and `.period` (`.label` reads "2026-11-01 .. 2026-11-30 (zone)").
"""

from bot.analytics.model import (
    ArticleDemand,
    DriversReport,
    FunnelReport,
    FunnelsReport,
    GroupBy,
    QuestionCluster,
    RetentionReport,
    RetentionRow,
    ScoreRow,
    ScoresReport,
    ScoreStats,
    ServiceReport,
    ServiceRow,
    StepDelivery,
    StepStats,
    TrendPoint,
    VariantComparison,
    VariantStats,
)
from bot.analytics.period import Bucket, Period, PeriodError
from bot.analytics.reports import ReportService
from bot.analytics.stats import Rate, Spread, ZTest

__all__ = [
    "ArticleDemand",
    "Bucket",
    "DriversReport",
    "FunnelReport",
    "FunnelsReport",
    "GroupBy",
    "Period",
    "PeriodError",
    "QuestionCluster",
    "Rate",
    "ReportService",
    "RetentionReport",
    "RetentionRow",
    "ScoreRow",
    "ScoreStats",
    "ScoresReport",
    "ServiceReport",
    "ServiceRow",
    "Spread",
    "StepDelivery",
    "StepStats",
    "TrendPoint",
    "VariantComparison",
    "VariantStats",
    "ZTest",
]
