"""First-response targets: the strictest wins, and the clock runs in working hours only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handoff.hours import WorkingHours
from bot.handoff.sla import SlaTargets, add_working_time

MIN = timedelta(minutes=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


TARGETS = SlaTargets(
    by_team={"support": 15 * MIN, "billing": 60 * MIN},
    by_tag={"vip": 5 * MIN, "damaged": 30 * MIN},
)


def test_team_target() -> None:
    assert TARGETS.first_response_target("support", []) == 15 * MIN
    assert TARGETS.first_response_target("billing", ["new"]) == 60 * MIN


def test_the_strictest_of_team_and_tags_wins() -> None:
    assert TARGETS.first_response_target("support", ["vip"]) == 5 * MIN
    assert TARGETS.first_response_target("billing", ["damaged"]) == 30 * MIN
    assert TARGETS.first_response_target("support", ["damaged"]) == 15 * MIN
    assert TARGETS.first_response_target("billing", ["damaged", "VIP"]) == 5 * MIN


def test_no_target() -> None:
    assert TARGETS.first_response_target("sales", []) is None
    assert TARGETS.first_response_target("sales", ["damaged"]) == 30 * MIN
    assert SlaTargets().first_response_target("support", ["vip"]) is None
    assert SlaTargets().due_at(utc(2026, 1, 5), "support", []) is None


def test_due_at_around_the_clock() -> None:
    assert TARGETS.due_at(utc(2026, 1, 5, 3, 0), "support", []) == utc(2026, 1, 5, 3, 15)


def test_due_at_counts_only_working_time() -> None:
    hours = WorkingHours.from_spec("UTC", {"mon-fri": "09:00-18:00"})
    # Asked at night: due 15 minutes after opening.
    assert TARGETS.due_at(utc(2026, 1, 5, 3, 0), "support", [], hours) == utc(2026, 1, 5, 9, 15)
    # Asked 10 minutes before closing on Friday: 10 minutes now, 50 on Monday.
    friday = utc(2026, 1, 9, 17, 50)
    assert TARGETS.due_at(friday, "billing", [], hours) == utc(2026, 1, 12, 9, 50)
    # Within the day.
    assert TARGETS.due_at(utc(2026, 1, 6, 10, 0), "support", ["vip"], hours) == utc(
        2026, 1, 6, 10, 5
    )


def test_due_at_skips_breaks_and_holidays() -> None:
    hours = WorkingHours.from_spec(
        "UTC", {"mon-fri": ["09:00-13:00", "14:00-18:00"]}, holidays=["2026-01-06"]
    )
    assert add_working_time(utc(2026, 1, 5, 12, 50), 30 * MIN, hours) == utc(2026, 1, 5, 14, 20)
    assert add_working_time(utc(2026, 1, 5, 17, 55), 10 * MIN, hours) == utc(2026, 1, 7, 9, 5)


def test_due_at_over_midnight_shifts() -> None:
    hours = WorkingHours.from_spec("UTC", {"daily": "22:00-02:00"})
    assert add_working_time(utc(2026, 1, 5, 1, 50), 20 * MIN, hours) == utc(2026, 1, 5, 22, 10)
    assert add_working_time(utc(2026, 1, 5, 23, 30), 60 * MIN, hours) == utc(2026, 1, 6, 0, 30)


def test_a_team_that_never_opens_has_no_due_time() -> None:
    never = WorkingHours("UTC", shifts=())
    assert add_working_time(utc(2026, 1, 5), 15 * MIN, never) is None


def test_zero_target_is_due_at_opening() -> None:
    hours = WorkingHours.from_spec("UTC", {"mon-fri": "09:00-18:00"})
    assert add_working_time(utc(2026, 1, 5, 3, 0), timedelta(0), hours) == utc(2026, 1, 5, 9, 0)
