"""What the dashboard shows, made from the reports: tiles, chart geometry, table rows (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.analytics import (
    Bucket,
    DriversReport,
    FunnelReport,
    Period,
    Rate,
    ServiceReport,
    Spread,
    TrendPoint,
    VariantComparison,
)
from bot.web.console.charts import (
    FunnelChart,
    Scale,
    TrendChart,
    day_label,
    duration_scale,
    funnel_chart,
    percent_label,
    percent_scale,
    seconds_label,
    trend_chart,
)
from bot.web.console.delivery_views import StepRow, funnel_delivery, step_rows

NO_DATA = "no data"


@dataclass(frozen=True, slots=True)
class Tile:
    key: str  # a stable name for the page's tests and styles
    name: str
    value: str
    detail: str


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One line of a chart's data table (the chart's text alternative)."""

    label: str
    value: str
    count: int


@dataclass(frozen=True, slots=True)
class TrendView:
    key: str
    title: str
    y_title: str
    x_title: str
    counted: str  # what `count` counts: "answers", "hand-offs"
    as_line: bool  # a line through the points (durations) rather than columns (shares)
    chart: TrendChart
    rows: tuple[TrendRow, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    text: str  # "b against a: −25 points"
    verdict: str  # "significant (p=0.012)", "not significant (p=0.54)"
    significant: bool


@dataclass(frozen=True, slots=True)
class VariantRow:
    name: str
    entered: int
    goal: str
    time_to_goal: str


@dataclass(frozen=True, slots=True)
class FunnelView:
    report: FunnelReport
    chart: FunnelChart
    goal: str  # "2 of 6 (33%)"
    time_to_goal: str
    exits: str  # "replied 2, expired 1"
    dropped: dict[str, int]  # by step
    variants: tuple[VariantRow, ...]
    comparisons: tuple[Comparison, ...]
    steps: tuple[StepRow, ...] = ()
    delivery: str = ""  # the line under the chart: the funnel's messages, all steps together


@dataclass(frozen=True, slots=True)
class Board:
    """Everything the dashboard page draws for one period."""

    period: Period
    bucket: Bucket
    service_empty: bool
    tiles: tuple[Tile, ...]
    trends: tuple[TrendView, ...]
    funnels: tuple[FunnelView, ...]
    drivers: DriversReport


def rate_detail(rate: Rate | None, of_what: str) -> str:
    if rate is None or not rate.whole:
        return NO_DATA
    return f"{rate.part} of {rate.whole} {of_what}"


def rate_value(rate: Rate | None) -> str:
    return percent_label(rate.percent if rate is not None else None)


def spread_detail(spread: Spread | None, counted: str) -> str:
    if spread is None or not spread.count:
        return NO_DATA
    return f"median; p90 {seconds_label(spread.p90)} · {spread.count} {counted}"


def signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"


def rate_tile(key: str, name: str, rate: Rate | None, of_what: str) -> Tile:
    return Tile(key, name, rate_value(rate), rate_detail(rate, of_what))


def spread_tile(key: str, name: str, spread: Spread | None, counted: str) -> Tile:
    median = spread.median if spread is not None else None
    return Tile(key, name, seconds_label(median), spread_detail(spread, counted))


def sla_tile(breaches: Rate | None) -> Tile:
    """How many missed the first-response target: a count reads better than a share here."""
    if breaches is None or not breaches.whole:
        return Tile("sla", "SLA breaches", "–", NO_DATA)
    detail = f"of {breaches.whole} with a target ({percent_label(breaches.percent)})"
    return Tile("sla", "SLA breaches", str(breaches.part), detail)


def service_tiles(report: ServiceReport) -> tuple[Tile, ...]:
    total = report.total
    scores = total.scores
    nps_detail = f"{scores.nps_answers} answers" if scores.nps_answers else NO_DATA
    return (
        rate_tile("csat", "CSAT", scores.csat, "scored 4–5"),
        Tile("nps", "NPS", signed(scores.nps), nps_detail),
        spread_tile("first_response", "First response", total.first_response, "chats"),
        spread_tile("resolution", "Resolution", total.resolution, "resolved"),
        rate_tile("handoff", "Hand-off rate", total.handoff_rate, "conversations"),
        rate_tile("self_service", "Self-service", total.self_service, "bot answers"),
        rate_tile(
            "first_contact",
            "First-contact resolution",
            total.first_contact_resolution,
            "closed chats",
        ),
        sla_tile(total.sla_breaches),
    )


def trend_view(
    key: str,
    title: str,
    y_title: str,
    counted: str,
    points: list[TrendPoint],
    bucket: Bucket,
    scale: Scale,
    *,
    as_line: bool = False,
) -> TrendView:
    weekly = bucket is Bucket.WEEK
    rows = tuple(
        TrendRow(
            ("week of " if weekly else "") + day_label(p.start),
            scale.label(p.value) if p.value is not None else "–",
            p.count,
        )
        for p in points
    )
    chart = trend_chart([(p.start, p.value, p.count) for p in points], scale)
    x_title = "Week (from Monday)" if weekly else "Day"
    return TrendView(key, title, y_title, x_title, counted, as_line, chart, rows)


def trend_views(
    csat: list[TrendPoint], first_response: list[TrendPoint], bucket: Bucket
) -> tuple[TrendView, ...]:
    per = "week" if bucket is Bucket.WEEK else "day"
    waits = duration_scale([p.value for p in first_response])
    return (
        trend_view(
            "csat",
            f"CSAT per {per}",
            "CSAT (% scored 4–5)",
            "answers",
            csat,
            bucket,
            percent_scale(),
        ),
        trend_view(
            "first_response",
            f"Median first response per {per}",
            "Median first response",
            "hand-offs",
            first_response,
            bucket,
            waits,
            as_line=True,
        ),
    )


def funnel_view(report: FunnelReport) -> FunnelView:
    steps = [(step.step_id, step.reached) for step in report.steps]
    goal = report.goal
    ttg = report.time_to_goal
    return FunnelView(
        report=report,
        chart=funnel_chart(steps, report.entered, report.worst_step),
        goal=f"{goal.part} of {goal.whole} ({percent_label(goal.percent)})",
        time_to_goal=f"median {seconds_label(ttg.median)}" if ttg.count else NO_DATA,
        exits=", ".join(f"{reason} {count}" for reason, count in report.exits.items()),
        dropped={step.step_id: step.dropped for step in report.steps},
        variants=tuple(
            VariantRow(
                v.name,
                v.entered,
                f"{v.goal.part} of {v.goal.whole} ({percent_label(v.goal.percent)})",
                seconds_label(v.time_to_goal.median),
            )
            for v in report.variants
        ),
        comparisons=tuple(comparison(c) for c in report.comparisons),
        steps=step_rows(report),
        delivery=funnel_delivery(report),
    )


def comparison(found: VariantComparison) -> Comparison:
    head = f"{found.variant} against {found.baseline}"
    test = found.test
    if test is None:
        return Comparison(head, "too little data to compare", False)
    points = 100.0 * test.difference
    sign = "+" if points >= 0 else "−"  # a real minus sign, as in print
    text = f"{head}: {sign}{abs(points):.1f} points"
    shown = p_label(test.p_value)
    verdict = f"significant ({shown})" if test.significant else f"not significant ({shown})"
    return Comparison(text, verdict, test.significant)


def p_label(p_value: float) -> str:
    """Enough digits to tell 0.04 from 0.06, never a long tail."""
    if p_value < 0.001:
        return "p<0.001"
    if p_value < 0.01:
        return f"p={p_value:.3f}"
    return f"p={p_value:.2f}"
