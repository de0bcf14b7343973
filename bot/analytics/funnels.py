"""The funnel report, computed from the counts storage returns (pure: no I/O)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.analytics.model import (
    NO_REASON,
    OTHER_REASONS,
    FunnelReport,
    StepDelivery,
    StepStats,
    VariantComparison,
    VariantStats,
)
from bot.analytics.stats import Rate, Spread, two_proportion_z_test
from bot.domain.report_ports import (
    Delivery,
    FunnelOutcomeCount,
    FunnelStepCount,
    GoalTiming,
    StepDeliveryCount,
)

DROPPED_STATUSES = frozenset({"exited", "expired", "failed"})
OPEN_STATUSES = frozenset({"running", "waiting_reply"})

StepKey = tuple[str, str]  # (funnel id, step id)
TOP_REASONS = 5  # reasons shown per step and outcome; the rest are summed as OTHER_REASONS


@dataclass(frozen=True, slots=True)
class FunnelFacts:
    steps: Sequence[FunnelStepCount]
    outcomes: Sequence[FunnelOutcomeCount]
    timings: Sequence[GoalTiming]
    # Enrollments that pressed a button of a step, found in the customers' stored messages.
    pressed: Mapping[StepKey, int]
    # What became of the steps' queued messages (their outbox rows).
    deliveries: Sequence[StepDeliveryCount] = ()


def build_funnel_reports(
    facts: FunnelFacts, step_order: Mapping[str, Sequence[str]] | None = None
) -> list[FunnelReport]:
    """One report per funnel with enrollments in the cohort, by funnel id."""
    funnel_ids = sorted({o.funnel_id for o in facts.outcomes})
    order = step_order or {}
    return [_funnel(funnel_id, facts, order.get(funnel_id, ())) for funnel_id in funnel_ids]


def _funnel(funnel_id: str, facts: FunnelFacts, file_order: Sequence[str]) -> FunnelReport:
    outcomes = [o for o in facts.outcomes if o.funnel_id == funnel_id]
    entered = sum(o.enrollments for o in outcomes)
    goal = sum(o.enrollments for o in outcomes if o.goal)
    steps = _steps(funnel_id, facts, outcomes, file_order)
    worst = max(steps, key=lambda s: s.dropped, default=None)  # max keeps the first of a tie
    timings = [t for t in facts.timings if t.funnel_id == funnel_id]
    variants = _variants(outcomes, timings)
    return FunnelReport(
        funnel_id=funnel_id,
        entered=entered,
        goal=Rate(goal, entered),
        completed=sum(o.enrollments for o in outcomes if o.status == "completed" and not o.goal),
        still_open=sum(o.enrollments for o in outcomes if o.status in OPEN_STATUSES),
        exits=_exits(outcomes),
        steps=steps,
        worst_step=worst.step_id if worst is not None and worst.dropped else None,
        time_to_goal=_time_to_goal(timings),
        variants=variants,
        comparisons=_compare(variants),
    )


def _steps(
    funnel_id: str,
    facts: FunnelFacts,
    outcomes: Iterable[FunnelOutcomeCount],
    file_order: Sequence[str],
) -> list[StepStats]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    first_seen: dict[str, int] = {}
    for row in facts.steps:  # one row per variant of each step: summed
        if row.funnel_id != funnel_id or row.step_id is None:
            continue
        counts[row.step_id].update(
            reached=row.reached, queued=row.queued, button=row.button, replied=row.replied,
            goal=row.goal,
        )  # fmt: skip
        seen = first_seen.get(row.step_id, row.first_log_id)
        first_seen[row.step_id] = min(seen, row.first_log_id)
    dropped: Counter[str] = Counter()
    for o in outcomes:
        if o.step_id is not None and o.status in DROPPED_STATUSES and not o.goal:
            dropped[o.step_id] += o.enrollments
    deliveries = _deliveries(funnel_id, facts.deliveries)
    known = set(counts) | set(dropped) | set(deliveries)
    # The file's order first; steps no longer in the file after them, in the order first seen.
    ordered = [s for s in file_order if s in known]
    ordered += sorted(known - set(ordered), key=lambda s: (first_seen.get(s, 1 << 62), s))
    pressed = facts.pressed
    return [
        _step(step_id, counts[step_id], dropped[step_id], pressed.get((funnel_id, step_id), 0),
              deliveries.get(step_id, StepDelivery()))
        for step_id in ordered
    ]  # fmt: skip


def _step(
    step_id: str, kinds: Counter[str], dropped: int, pressed: int, delivery: StepDelivery
) -> StepStats:
    # A press is logged as `button` where the runner writes it, and is always in the message
    # history: both describe the same presses, so the larger count is the complete one.
    return StepStats(
        step_id=step_id,
        reached=kinds["reached"],
        queued=kinds["queued"],
        pressed=max(kinds["button"], pressed),
        replied=kinds["replied"],
        goal=kinds["goal"],
        dropped=dropped,
        delivery=delivery,
    )


def _deliveries(funnel_id: str, rows: Iterable[StepDeliveryCount]) -> dict[str, StepDelivery]:
    """Each step's delivery counts, with its failure and suppression reasons."""
    counts: dict[str, Counter[Delivery]] = defaultdict(Counter)
    reasons: dict[tuple[str, Delivery], Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.funnel_id != funnel_id:
            continue
        counts[row.step_id][row.delivery] += row.enrollments
        if row.delivery in (Delivery.FAILED, Delivery.SUPPRESSED):
            reasons[row.step_id, row.delivery][row.reason or NO_REASON] += row.enrollments
    return {
        step_id: StepDelivery(
            delivered=n[Delivery.DELIVERED],
            failed=n[Delivery.FAILED],
            suppressed=n[Delivery.SUPPRESSED],
            pending=n[Delivery.PENDING],
            unknown=n[Delivery.UNKNOWN],
            failure_reasons=top_reasons(reasons[step_id, Delivery.FAILED]),
            suppression_reasons=top_reasons(reasons[step_id, Delivery.SUPPRESSED]),
        )
        for step_id, n in counts.items()
    }


def top_reasons(counts: Mapping[str, int], limit: int = TOP_REASONS) -> dict[str, int]:
    """The `limit` most frequent reasons (ties by text), most first; when there are more, the
    last place sums the rest as OTHER_REASONS, so the counts still add up."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if len(ranked) <= limit:
        return dict(ranked)
    rest = sum(count for _, count in ranked[limit - 1 :])
    return {**dict(ranked[: limit - 1]), OTHER_REASONS: rest}


def _exits(outcomes: Iterable[FunnelOutcomeCount]) -> dict[str, int]:
    exits: Counter[str] = Counter()
    for o in outcomes:
        if o.goal or o.status not in DROPPED_STATUSES:
            continue
        reason = o.end_reason or o.status if o.status == "exited" else o.status
        exits[reason] += o.enrollments
    return dict(sorted(exits.items(), key=lambda item: (-item[1], item[0])))


def _time_to_goal(timings: Iterable[GoalTiming]) -> Spread:
    return Spread.of([(t.reached_at - t.entered_at).total_seconds() for t in timings])


def _variants(
    outcomes: Sequence[FunnelOutcomeCount], timings: Sequence[GoalTiming]
) -> list[VariantStats]:
    names = sorted({o.variant for o in outcomes if o.variant is not None})
    found = []
    for name in names:
        mine = [o for o in outcomes if o.variant == name]
        entered = sum(o.enrollments for o in mine)
        goal = sum(o.enrollments for o in mine if o.goal)
        spread = _time_to_goal(t for t in timings if t.variant == name)
        found.append(VariantStats(name, entered, Rate(goal, entered), spread))
    return found


def _compare(variants: Sequence[VariantStats]) -> list[VariantComparison]:
    """Every variant against the first by name (name the control `a` and it is the baseline)."""
    if len(variants) < 2:
        return []
    baseline = variants[0]
    return [
        VariantComparison(baseline.name, v.name, two_proportion_z_test(baseline.goal, v.goal))
        for v in variants[1:]
    ]


def parse_button_press(text: str) -> tuple[int, str] | None:
    """`[button] fn:<enrollment>:<step>:<value>` (how a funnel button press is stored) ->
    (enrollment id, step id); None for anything else."""
    prefix = "[button] fn:"
    if not text.startswith(prefix):
        return None
    parts = text[len(prefix) :].split(":")
    if len(parts) < 3 or not parts[0].isdigit() or not parts[1]:
        return None
    return int(parts[0]), parts[1]
