"""What the dashboard says of a funnel's messages: queued, and what became of them (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.analytics import FunnelReport, StepDelivery, StepStats


@dataclass(frozen=True, slots=True)
class StepRow:
    """One step in the funnel's data table, and what its bar's tooltip says of its messages."""

    step: StepStats
    delivery: str  # "4 queued: 2 delivered, 1 failed, 1 suppressed"
    reasons: str  # "failed: chat not found 1; suppressed: opted out 1", or ""


def step_rows(report: FunnelReport) -> tuple[StepRow, ...]:
    return tuple(
        StepRow(step, delivery_text(step.queued, step.delivery), reasons_line(step.delivery))
        for step in report.steps
    )


def delivery_text(queued: int, d: StepDelivery) -> str:
    """`1,000 queued: 940 delivered, 25 failed, 35 suppressed` (pending and unknown only
    when there are some)."""
    shown = [(d.delivered, "delivered"), (d.failed, "failed"), (d.suppressed, "suppressed")]
    shown += [(n, name) for n, name in ((d.pending, "pending"), (d.unknown, "outcome unknown"))
              if n]  # fmt: skip
    return f"{queued:,} queued: " + ", ".join(f"{n:,} {name}" for n, name in shown)


def reasons_line(d: StepDelivery) -> str:
    """`failed: chat not found 1; suppressed: opted out 30, blocked 5`; empty when none."""
    parts = [
        f"{outcome}: " + ", ".join(f"{reason} {n:,}" for reason, n in reasons.items())
        for outcome, reasons in (("failed", d.failure_reasons),
                                 ("suppressed", d.suppression_reasons))
        if reasons
    ]  # fmt: skip
    return "; ".join(parts)


def funnel_delivery(report: FunnelReport) -> str:
    """The funnel's messages, all steps together, with why some did not arrive; empty when
    no step queued any."""
    queued = sum(s.queued for s in report.steps)
    if not queued:
        return ""
    total = StepDelivery(
        delivered=sum(s.delivery.delivered for s in report.steps),
        failed=sum(s.delivery.failed for s in report.steps),
        suppressed=sum(s.delivery.suppressed for s in report.steps),
        pending=sum(s.delivery.pending for s in report.steps),
        unknown=sum(s.delivery.unknown for s in report.steps),
        failure_reasons=_summed(s.delivery.failure_reasons for s in report.steps),
        suppression_reasons=_summed(s.delivery.suppression_reasons for s in report.steps),
    )
    why = reasons_line(total)
    return f"Messages: {delivery_text(queued, total)}" + (f" ({why})" if why else "")


def _summed(found: Iterable[dict[str, int]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for reasons in found:
        counts.update(reasons)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
