"""Reports as plain tables and JSON-ready data, for the terminal, CSV and JSON (pure).

A report becomes `Section`s: a title, column names and rows of raw values (numbers, text or
None for "not applicable / nothing to compute"). The first section is the report's flat
table (what CSV writes); the others add detail to the terminal view. Percentages are 0..100,
durations are seconds.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.analytics.model import (
    DriversReport,
    FunnelReport,
    FunnelsReport,
    RetentionReport,
    ScoresReport,
    ScoreStats,
    ServiceReport,
    ServiceRow,
    StepDelivery,
    StepStats,
)
from bot.analytics.period import Period
from bot.analytics.stats import Rate, Spread, ZTest

Cell = str | int | float | None
Report = FunnelsReport | ServiceReport | ScoresReport | DriversReport | RetentionReport


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def _pct(rate: Rate | None) -> float | None:
    value = rate.percent if rate is not None else None
    return None if value is None else round(value, 1)


def _whole(rate: Rate | None) -> int | None:
    return rate.whole if rate is not None else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _spread(spread: Spread | None) -> tuple[Cell, Cell]:
    if spread is None:
        return None, None
    return _seconds(spread.median), _seconds(spread.p90)


STEP_COLUMNS = ("funnel", "step", "reached", "queued", "pressed", "replied", "goal", "dropped")
DELIVERY_COLUMNS = ("delivered", "failed", "suppressed", "pending", "unknown")
REASON_COLUMNS = ("failure reasons", "suppression reasons")


def reasons_text(reasons: dict[str, int]) -> str | None:
    """`contact opted out of marketing messages (30); contact blocked the bot (5)`."""
    return "; ".join(f"{reason} ({count})" for reason, count in reasons.items()) or None


def _step_cells(f: FunnelReport, s: StepStats) -> tuple[Cell, ...]:
    return (f.funnel_id, s.step_id, s.reached, s.queued, s.pressed, s.replied, s.goal, s.dropped)


def _delivery_cells(d: StepDelivery) -> tuple[Cell, ...]:
    return (d.delivered, d.failed, d.suppressed, d.pending, d.unknown)


def funnel_sections(report: FunnelsReport) -> list[Section]:
    """The flat table (CSV): one row per funnel and step, with what became of its messages."""
    steps = Section(
        "Funnel steps",
        STEP_COLUMNS + DELIVERY_COLUMNS + REASON_COLUMNS,
        [
            (*_step_cells(f, s), *_delivery_cells(s.delivery),
             reasons_text(s.delivery.failure_reasons),
             reasons_text(s.delivery.suppression_reasons))
            for f in report.funnels
            for s in f.steps
        ],
    )  # fmt: skip
    return [steps, *_funnel_detail(report)]


def funnel_table_sections(report: FunnelsReport) -> list[Section]:
    """For the terminal: the steps, then their messages' delivery and reasons (the flat table
    is too wide to read)."""
    steps = Section(
        "Funnel steps", STEP_COLUMNS, [_step_cells(f, s) for f in report.funnels for s in f.steps]
    )
    delivery = Section(
        "What became of the steps' queued messages",
        ("funnel", "step", "queued", *DELIVERY_COLUMNS),
        [
            (f.funnel_id, s.step_id, s.queued, *_delivery_cells(s.delivery))
            for f in report.funnels
            for s in f.steps
        ],
    )
    reasons = Section(
        "Why messages were not delivered",
        ("funnel", "step", "outcome", "reason", "enrollments"),
        [
            (f.funnel_id, s.step_id, outcome, reason, count)
            for f in report.funnels
            for s in f.steps
            for outcome, found in (("failed", s.delivery.failure_reasons),
                                   ("suppressed", s.delivery.suppression_reasons))
            for reason, count in found.items()
        ],
    )  # fmt: skip
    return [steps, delivery, *([reasons] if reasons.rows else []), *_funnel_detail(report)]


def _funnel_detail(report: FunnelsReport) -> list[Section]:
    summary = Section(
        "Funnels",
        ("funnel", "entered", "goal", "goal %", "completed", "open", "worst step",
         "to goal median s", "to goal p90 s", "exits"),
        [
            (f.funnel_id, f.entered, f.goal.part, _pct(f.goal), f.completed, f.still_open,
             f.worst_step, *_spread(f.time_to_goal),
             ", ".join(f"{reason}: {n}" for reason, n in f.exits.items()) or None)
            for f in report.funnels
        ],
    )  # fmt: skip
    variants = Section(
        "A/B variants (goal rate against the first variant; two-proportion z-test)",
        ("funnel", "variant", "entered", "goal", "goal %", "difference pts", "p-value",
         "significant"),
        [
            (f.funnel_id, v.name, v.entered, v.goal.part, _pct(v.goal), *_versus(f, v.name))
            for f in report.funnels
            for v in f.variants
        ],
    )  # fmt: skip
    return [summary, *([variants] if variants.rows else [])]


def _versus(funnel: Any, name: str) -> tuple[Cell, Cell, Cell]:
    for comparison in funnel.comparisons:
        if comparison.variant == name:
            test: ZTest | None = comparison.test
            if test is None:
                return None, None, "too little data"
            verdict = "yes" if test.significant else "no"
            return round(100 * test.difference, 1), round(test.p_value, 4), verdict
    return None, None, "baseline"


SERVICE_COLUMNS = (
    "group", "CSAT %", "CSAT answers", "NPS", "NPS answers", "first response median s",
    "first response p90 s", "resolution median s", "resolution p90 s", "hand-off %",
    "conversations", "self-service %", "bot answers", "first-contact resolution %",
    "closed by agent", "SLA breached %", "with SLA",
)  # fmt: skip


def _service_row(row: ServiceRow) -> tuple[Cell, ...]:
    return (
        row.group if row.group is not None else "(all)",
        *_score_cells(row.scores),
        *_spread(row.first_response),
        *_spread(row.resolution),
        _pct(row.handoff_rate),
        _whole(row.handoff_rate),
        _pct(row.self_service),
        _whole(row.self_service),
        _pct(row.first_contact_resolution),
        _whole(row.first_contact_resolution),
        _pct(row.sla_breaches),
        _whole(row.sla_breaches),
    )


def _score_cells(scores: ScoreStats) -> tuple[Cell, Cell, Cell, Cell]:
    nps = scores.nps
    return (
        _pct(scores.csat),
        scores.csat.whole,
        None if nps is None else round(nps, 1),
        scores.nps_answers,
    )


def service_sections(report: ServiceReport) -> list[Section]:
    rows = [_service_row(row) for row in report.groups] + [_service_row(report.total)]
    title = f"Service by {report.by.value}" if report.by else "Service"
    return [Section(title, SERVICE_COLUMNS, rows)]


def score_sections(report: ScoresReport) -> list[Section]:
    columns = ("group", "CSAT %", "CSAT answers", "NPS", "NPS answers", "promoters",
               "detractors")  # fmt: skip
    named: list[tuple[str | None, ScoreStats]] = [(r.group, r.scores) for r in report.groups]
    rows: list[tuple[Cell, ...]] = [
        (name or "(all)", *_score_cells(s), s.promoters, s.detractors)
        for name, s in [*named, (None, report.total)]
    ]
    title = f"CSAT and NPS by {report.by.value}" if report.by else "CSAT and NPS"
    return [Section(title, columns, rows)]


def driver_sections(report: DriversReport) -> list[Section]:
    columns = ("kind", "article or question", "count", "helpful", "not helpful", "words")
    articles: list[tuple[Cell, ...]] = [
        ("article", a.article_id, a.asked, a.helpful, a.not_helpful, None) for a in report.articles
    ]
    questions: list[tuple[Cell, ...]] = [
        ("unanswered", c.example, c.count, None, None, " ".join(c.words)) for c in report.unanswered
    ]
    return [Section("Top contact drivers", columns, articles + questions)]


def retention_sections(report: RetentionReport) -> list[Section]:
    columns = ("first funnel", "contacts", "quiet", "quiet %")
    rows: list[tuple[Cell, ...]] = [
        (r.origin or "(no funnel)", r.quiet.whole, r.quiet.part, _pct(r.quiet)) for r in report.rows
    ]
    title = f"Contacts gone quiet (nothing for {report.quiet_for_days} days)"
    return [Section(title, columns, rows)]


SECTIONS: dict[type, Callable[[Any], list[Section]]] = {
    FunnelsReport: funnel_sections,
    ServiceReport: service_sections,
    ScoresReport: score_sections,
    DriversReport: driver_sections,
    RetentionReport: retention_sections,
}


# Where the terminal shows a report differently from its flat table.
TABLE_SECTIONS: dict[type, Callable[[Any], list[Section]]] = {
    FunnelsReport: funnel_table_sections,
}


def sections(report: Report) -> list[Section]:
    """The report's sections; the first is its flat table (CSV)."""
    return SECTIONS[type(report)](report)


def table_sections(report: Report) -> list[Section]:
    """The sections the terminal prints."""
    return TABLE_SECTIONS.get(type(report), SECTIONS[type(report)])(report)


def to_data(value: Any) -> Any:
    """The report as JSON-ready data: dataclasses become objects (with computed values such as
    `percent` and `nps` beside the counts), dates ISO text."""
    if isinstance(value, Period):
        return {"start": value.start.isoformat(), "end": value.end.isoformat(),
                "zone": value.zone.key, "label": value.label}  # fmt: skip
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in ("value", "percent", "nps", "significant", "empty"):
            if hasattr(type(value), extra):
                data[extra] = to_data(getattr(value, extra))
        return data
    if isinstance(value, dict):
        return {str(key): to_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, ZoneInfo):
        return value.key
    return value
