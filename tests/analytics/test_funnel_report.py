"""The funnel, drivers and retention reports on the seeded world (tests/analytics/seed.py)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.analytics import FunnelReport, Rate, ReportService, StepDelivery, StepStats
from bot.analytics.funnels import top_reasons
from bot.domain.clock import FakeClock
from bot.storage import Storage
from tests.analytics.seed import FIRST_DAY, LAST_DAY, ZONE, seed_world

WELCOME_STEPS = {"welcome": ["hello", "offer", "reminder"], "cart": ["nudge"]}


@pytest.fixture
async def reports(storage: Storage, clock: FakeClock) -> AsyncIterator[ReportService]:
    await seed_world(storage, clock)
    yield ReportService(storage.uow, clock, zone=ZONE, step_order=lambda: WELCOME_STEPS)


async def _funnels(reports: ReportService) -> dict[str, FunnelReport]:
    report = await reports.funnels(reports.period(first=FIRST_DAY, last=LAST_DAY))
    return {funnel.funnel_id: funnel for funnel in report.funnels}


async def test_welcome_funnel_steps(reports: ReportService) -> None:
    welcome = (await _funnels(reports))["welcome"]
    # Entered in the period: E1-E6 (E7 entered at 21:00 UTC on the 1st: outside).
    assert welcome.entered == 6
    assert welcome.goal == Rate(2, 6)  # E1 at offer, E3 at reminder
    assert (welcome.completed, welcome.still_open) == (0, 1)  # E5 waits at offer
    assert welcome.exits == {"replied": 2, "expired": 1}  # E2, E6; E4
    assert [_without_delivery(step) for step in welcome.steps] == [
        # hello: all six have a row there (E4's is `notified`: a service message counts as
        # queued); E4 expired there.
        StepStats("hello", reached=6, queued=6, pressed=0, replied=0, goal=0, dropped=1),
        # offer: E1, E2, E3, E6 were sent it (E5 has no row there yet); E1 pressed its button
        # twice (counted once; E7's press is outside the cohort); E2 and E6 replied and left.
        StepStats("offer", reached=4, queued=4, pressed=1, replied=2, goal=1, dropped=2),
        StepStats("reminder", reached=1, queued=1, pressed=0, replied=0, goal=1, dropped=0),
    ]
    assert welcome.worst_step == "offer"
    # Time to goal: E1 2 h (7200 s), E3 1 day (86400 s): median 46800; p90 at 0.9:
    # 7200 + 0.9 * 79200 = 78480.
    assert welcome.time_to_goal.median == 46800.0
    assert welcome.time_to_goal.p90 == pytest.approx(78480.0)


async def test_welcome_ab_variants(reports: ReportService) -> None:
    welcome = (await _funnels(reports))["welcome"]
    a, b = welcome.variants
    # a: E1 (goal), E2 -> 1/2; b: E3 (goal), E4, E5, E6 -> 1/4.
    assert (a.name, a.entered, a.goal, a.time_to_goal.median) == ("a", 2, Rate(1, 2), 7200.0)
    assert (b.name, b.entered, b.goal, b.time_to_goal.median) == ("b", 4, Rate(1, 4), 86400.0)
    (comparison,) = welcome.comparisons
    assert (comparison.baseline, comparison.variant) == ("a", "b")
    test = comparison.test
    assert test is not None
    # Pooled 2/6 = 1/3; SE = sqrt(1/3 * 2/3 * (1/2 + 1/4)) = sqrt(1/6) = 0.40825;
    # z = (0.25 - 0.5) / 0.40825 = -0.61237; p = erfc(0.61237 / sqrt 2) = 0.5403.
    assert test.difference == -0.25
    assert test.z == pytest.approx(-0.61237, abs=1e-5)
    assert test.p_value == pytest.approx(math.erfc(0.612372 / math.sqrt(2)), abs=1e-5)
    assert test.p_value == pytest.approx(0.5403, abs=1e-4)
    assert not test.significant


async def test_cart_funnel(reports: ReportService) -> None:
    cart = (await _funnels(reports))["cart"]
    # E8 entered at 23:30 UTC on the 1st (01:30 on the 2nd in Chisinau) and completed; E9 left
    # on opt-out at nudge. No variants, no goal.
    assert (cart.entered, cart.goal, cart.completed) == (2, Rate(0, 2), 1)
    assert cart.exits == {"opted_out": 1}
    assert [_without_delivery(step) for step in cart.steps] == [
        StepStats("nudge", 2, 2, 0, 0, 0, 1)
    ]
    assert cart.worst_step == "nudge"
    assert cart.time_to_goal.count == 0 and cart.time_to_goal.median is None
    assert cart.variants == [] and cart.comparisons == []


def _without_delivery(step: StepStats) -> StepStats:
    return StepStats(step.step_id, step.reached, step.queued, step.pressed, step.replied,
                     step.goal, step.dropped)  # fmt: skip


async def test_what_became_of_each_steps_messages(reports: ReportService) -> None:
    funnels = await _funnels(reports)
    hello, offer, reminder = (step.delivery for step in funnels["welcome"].steps)
    # hello, 6 queued: E1 and E2 delivered; E3 failed; E4's two parts, the second pending:
    # pending; E5 suppressed; E6 unknown. 2 + 1 + 1 + 1 + 1 = 6. E7's delivered hello entered
    # before the period: not counted.
    assert hello == StepDelivery(
        delivered=2, failed=1, suppressed=1, pending=1, unknown=1,
        failure_reasons={"400: Bad Request: chat not found": 1},
        suppression_reasons={"contact opted out of marketing messages": 1},
    )  # fmt: skip
    assert hello.tracked == funnels["welcome"].steps[0].queued == 6
    # offer, 4 queued: E1 delivered; E2 failed (403); E6's first part delivered and second
    # failed (chat not found): failed; E3 suppressed (blocked). 1 + 2 + 1 = 4.
    assert offer == StepDelivery(
        delivered=1, failed=2, suppressed=1,
        failure_reasons={"400: Bad Request: chat not found": 1,
                         "403: Forbidden: bot was blocked by the user": 1},
        suppression_reasons={"contact blocked the bot": 1},
    )  # fmt: skip
    # reminder, 1 queued: E3 was sent it twice, delivered then suppressed: the enrollment
    # counts once, as suppressed (the least favourable outcome decides).
    assert reminder == StepDelivery(
        suppressed=1, suppression_reasons={"contact opted out of marketing messages": 1}
    )
    # cart/nudge, 2 queued: E8 suppressed (blocked), E9 suppressed (opted out); equal counts
    # are listed by reason.
    (nudge,) = (step.delivery for step in funnels["cart"].steps)
    assert nudge == StepDelivery(
        suppressed=2,
        suppression_reasons={"contact blocked the bot": 1,
                             "contact opted out of marketing messages": 1},
    )  # fmt: skip


def test_rare_reasons_are_summed_so_the_counts_still_add_up() -> None:
    counts = {"a": 9, "b": 7, "c": 7, "d": 3, "e": 2, "f": 1}
    # Five places: the four most frequent (b before c on their tie), then the other two.
    assert top_reasons(counts, limit=5) == {"a": 9, "b": 7, "c": 7, "d": 3, "(other reasons)": 3}
    assert top_reasons({"a": 1, "b": 2}, limit=2) == {"b": 2, "a": 1}
    assert sum(top_reasons(counts, limit=3).values()) == sum(counts.values())


async def test_steps_without_the_funnel_file_come_in_logged_order(
    storage: Storage, clock: FakeClock
) -> None:
    await seed_world(storage, clock)
    reports = ReportService(storage.uow, clock, zone=ZONE)
    welcome = (await _funnels(reports))["welcome"]
    assert [s.step_id for s in welcome.steps] == ["hello", "offer", "reminder"]


async def test_drivers(reports: ReportService) -> None:
    report = await reports.drivers(reports.period(first=FIRST_DAY, last=LAST_DAY))
    # delivery: A1 (Yes), A2, A4 -> asked 3, helpful 1; returns: A3 (No).
    assert [(a.article_id, a.asked, a.helpful, a.not_helpful) for a in report.articles] == [
        ("delivery", 3, 1, 0),
        ("returns", 1, 0, 1),
    ]
    # Eight unanswered questions in the period ("an old question" is outside).
    assert report.unanswered_total == 8
    top = [(c.example, c.count, c.words) for c in report.unanswered]
    assert top == [
        # {parcel} x3 and {parcel, late}: Jaccard 1/2, joins.
        ("Where is my parcel?", 4, ("parcel",)),
        # {gift, card} x2 and {sell, gift, card}: Jaccard 2/3, joins.
        ("gift cards", 3, ("card", "gift")),
        ("Can I pay with crypto", 1, ("crypto", "pay")),
    ]
    assert report.unanswered[0].samples == ("where is my parcel", "my parcel is late")


async def test_retention(reports: ReportService) -> None:
    period = reports.period(first=FIRST_DAY, last=LAST_DAY)
    # Quiet: nothing from them in the 3 days before the end (since 5 Nov 22:00 UTC).
    report = await reports.retention(period, quiet_for=timedelta(days=3))
    rows = {row.origin: row.quiet for row in report.rows}
    # Created in the period: R1 (first funnel welcome, wrote on the 6th), R2 (welcome, wrote
    # on the 4th only: quiet), R3 (cart, paid on the 7th), R4 (no funnel: quiet), R6 (cart, only
    # our message: quiet). R5 was created at 23:00 local on the 1st: outside.
    assert rows == {"welcome": Rate(1, 2), "cart": Rate(1, 2), None: Rate(1, 1)}
    assert [row.origin for row in report.rows] == ["cart", "welcome", None]
    assert report.quiet_for_days == 3
