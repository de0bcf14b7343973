"""Working hours: local shifts, midnight, holidays, DST, and when the team next opens."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.handoff.hours import (
    Shift,
    WorkingHours,
    local_instant,
    parse_days,
    parse_holiday,
    parse_range,
    parse_shifts,
    zone,
)

CHISINAU = "Europe/Chisinau"  # UTC+2 in winter, UTC+3 in summer


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def office(**extra: object) -> WorkingHours:
    hours = {"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}
    return WorkingHours.from_spec(CHISINAU, hours, **extra)  # type: ignore[arg-type]


def test_always_is_open_at_any_moment() -> None:
    always = WorkingHours.always()
    assert always == WorkingHours()
    for hour in range(0, 24 * 7, 5):
        moment = utc(2026, 1, 5) + timedelta(hours=hour, minutes=17)
        assert always.is_open(moment)
        assert always.next_open(moment) == moment


def test_office_hours_in_the_teams_time_zone() -> None:
    hours = office()
    # Monday 2026-01-05, winter: 09:00 in Chisinau is 07:00 UTC.
    assert not hours.is_open(utc(2026, 1, 5, 6, 59))
    assert hours.is_open(utc(2026, 1, 5, 7, 0))
    assert hours.is_open(utc(2026, 1, 5, 15, 59, 59))
    assert not hours.is_open(utc(2026, 1, 5, 16, 0))
    # Saturday 10:00-14:00, Sunday closed.
    assert hours.is_open(utc(2026, 1, 10, 8, 0))
    assert not hours.is_open(utc(2026, 1, 10, 12, 0))
    assert not hours.is_open(utc(2026, 1, 11, 10, 0))


def test_the_local_day_decides_near_midnight() -> None:
    # 23:30 UTC on Sunday is already 01:30 on Monday in Chisinau.
    sunday_night = utc(2026, 1, 11, 23, 30)
    monday_early = WorkingHours.from_spec(CHISINAU, {"mon": "00:00-02:00"})
    assert monday_early.is_open(sunday_night)
    assert not WorkingHours.from_spec("UTC", {"mon": "00:00-02:00"}).is_open(sunday_night)
    seoul = WorkingHours.from_spec("Asia/Seoul", {"mon": "09:00-10:00"})
    assert seoul.is_open(utc(2026, 1, 12, 0, 30))  # 09:30 Monday in Seoul


def test_a_shift_across_midnight_belongs_to_the_day_it_starts() -> None:
    night = WorkingHours.from_spec("UTC", {"fri": "22:00-02:00"})
    assert not night.is_open(utc(2026, 1, 9, 21, 59))  # Friday
    assert night.is_open(utc(2026, 1, 9, 22, 0))
    assert night.is_open(utc(2026, 1, 10, 1, 59))  # Saturday morning, still Friday's shift
    assert not night.is_open(utc(2026, 1, 10, 2, 0))
    assert not night.is_open(utc(2026, 1, 8, 23, 0))  # Thursday night
    assert not night.is_open(utc(2026, 1, 9, 1, 0))  # Friday morning: Thursday had no shift
    # A holiday on Saturday does not cut Friday's shift; a holiday on Friday cancels it.
    saturday_off = WorkingHours.from_spec("UTC", {"fri": "22:00-02:00"}, ["2026-01-10"])
    assert saturday_off.is_open(utc(2026, 1, 10, 1, 0))
    friday_off = WorkingHours.from_spec("UTC", {"fri": "22:00-02:00"}, ["2026-01-09"])
    assert not friday_off.is_open(utc(2026, 1, 9, 23, 0))
    assert not friday_off.is_open(utc(2026, 1, 10, 1, 0))


def test_a_break_in_the_day() -> None:
    hours = WorkingHours.from_spec("UTC", {"daily": ["09:00-13:00", "14:00-18:00"]})
    assert hours.is_open(utc(2026, 1, 5, 12, 59))
    assert not hours.is_open(utc(2026, 1, 5, 13, 30))
    assert hours.next_open(utc(2026, 1, 5, 13, 30)) == utc(2026, 1, 5, 14, 0)


def test_holidays_once_and_every_year() -> None:
    hours = office(holidays=["2026-01-06", "01-07", date(2026, 1, 8)])
    assert not hours.is_open(utc(2026, 1, 6, 10, 0))
    assert not hours.is_open(utc(2026, 1, 7, 10, 0))
    assert not hours.is_open(utc(2027, 1, 7, 10, 0))  # 01-07 is every year (a Thursday)
    assert not hours.is_open(utc(2026, 1, 8, 10, 0))
    assert hours.is_open(utc(2026, 1, 9, 10, 0))
    assert hours.is_holiday(date(2030, 1, 7))
    assert not hours.is_holiday(date(2027, 1, 6))


def test_next_open_over_a_weekend() -> None:
    hours = office()
    friday_evening = utc(2026, 1, 9, 16, 30)  # 18:30 in Chisinau
    assert hours.next_open(friday_evening) == utc(2026, 1, 10, 8, 0)  # Saturday 10:00
    saturday_afternoon = utc(2026, 1, 10, 12, 0)  # 14:00, just closed
    assert hours.next_open(saturday_afternoon) == utc(2026, 1, 12, 7, 0)  # Monday 09:00
    assert hours.next_open(utc(2026, 1, 12, 7, 0)) == utc(2026, 1, 12, 7, 0)  # open now


def test_next_open_skips_holidays() -> None:
    hours = office(holidays=["2026-01-12", "2026-01-13"])  # Monday and Tuesday
    assert hours.next_open(utc(2026, 1, 10, 12, 0)) == utc(2026, 1, 14, 7, 0)
    new_year = office(holidays=["12-31", "01-01", "01-02"])
    # Wednesday 2026-12-30 after hours -> Saturday 2027-01-02 is a holiday too -> Monday 4th.
    assert new_year.next_open(utc(2026, 12, 30, 17, 0)) == utc(2027, 1, 4, 7, 0)


def test_next_open_when_never_open() -> None:
    assert WorkingHours("UTC", shifts=()).next_open(utc(2026, 1, 5)) is None
    mondays = WorkingHours.from_spec("UTC", {"mon": "09:00-10:00"})
    every_monday = frozenset((month, day) for month in range(1, 13) for day in range(1, 32))
    closed = WorkingHours("UTC", mondays.shifts, yearly_holidays=every_monday)
    assert closed.next_open(utc(2026, 1, 5)) is None


def test_daylight_saving_moves_the_hours_in_utc() -> None:
    # Chisinau moves from UTC+2 to UTC+3 at 00:00 UTC on Sunday 2026-03-29.
    hours = office()
    assert hours.is_open(utc(2026, 3, 28, 8, 0))  # Saturday 10:00 local (UTC+2)
    assert hours.next_open(utc(2026, 3, 28, 13, 0)) == utc(2026, 3, 30, 6, 0)  # Monday UTC+3
    assert hours.is_open(utc(2026, 3, 30, 6, 0))
    assert not hours.is_open(utc(2026, 3, 30, 5, 59))
    # And back to UTC+2 on Sunday 2026-10-25.
    assert hours.next_open(utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 26, 7, 0)


def test_a_shift_starting_in_the_dst_gap_opens_when_the_clocks_jump() -> None:
    # On 2026-03-29 Chisinau's clocks jump from 02:00 to 03:00; 02:30 never happens.
    hours = WorkingHours.from_spec(CHISINAU, {"sun": "02:30-05:00"})
    opens = hours.next_open(utc(2026, 3, 28, 20, 0))
    assert opens == utc(2026, 3, 29, 0, 0)  # 03:00 local, the first moment past 02:30
    assert hours.is_open(opens)
    assert not hours.is_open(opens - timedelta(seconds=1))
    # A shift entirely inside the gap never opens that day.
    lost = WorkingHours.from_spec(CHISINAU, {"sun": "02:10-02:40"})
    assert lost.next_open(utc(2026, 3, 28, 20, 0)) == local_instant(
        date(2026, 4, 5), 130, zone(CHISINAU)
    )


def test_a_repeated_hour_opens_at_its_first_occurrence() -> None:
    # On 2026-10-25 Chisinau's clocks go from 03:00 back to 02:00: 02:30 happens twice.
    hours = WorkingHours.from_spec(CHISINAU, {"sun": "02:30-02:45"})
    assert hours.next_open(utc(2026, 10, 24, 20, 0)) == utc(2026, 10, 24, 23, 30)
    assert hours.is_open(utc(2026, 10, 24, 23, 40))  # 02:40 summer time
    assert hours.is_open(utc(2026, 10, 25, 0, 40))  # 02:40 winter time, once more


def test_open_until_follows_back_to_back_shifts() -> None:
    hours = WorkingHours.from_spec(
        "UTC", {"mon": ["09:00-13:00", "13:00-18:00"], "fri": "22:00-02:00", "sat": "01:00-04:00"}
    )
    far = utc(2030, 1, 1)
    assert hours.open_until(utc(2026, 1, 5, 10, 0), far) == utc(2026, 1, 5, 18, 0)
    assert hours.open_until(utc(2026, 1, 9, 23, 0), far) == utc(2026, 1, 10, 4, 0)
    limit = utc(2026, 1, 5, 11, 0)
    assert hours.open_until(utc(2026, 1, 5, 10, 0), limit) == limit
    always = WorkingHours.always()
    assert always.open_until(utc(2026, 1, 5), utc(2026, 1, 20)) == utc(2026, 1, 20)


@pytest.mark.parametrize(
    ("spec", "days"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat", (5,)),
        ("Sun", (6,)),
        ("fri-mon", (4, 5, 6, 0)),
        ("mon, wed,fri", (0, 2, 4)),
        ("daily", (0, 1, 2, 3, 4, 5, 6)),
        ("Monday-Tuesday", (0, 1)),
    ],
)
def test_parse_days(spec: str, days: tuple[int, ...]) -> None:
    assert parse_days(spec) == days


@pytest.mark.parametrize("spec", ["mon-fry", "weekdays", "mon-tue-wed", "", "mon,"])
def test_bad_days(spec: str) -> None:
    with pytest.raises(ValueError, match=r"is not a day or a range of days; write mon, tue"):
        parse_days(spec)


@pytest.mark.parametrize(
    ("spec", "minutes"),
    [
        ("09:00-18:00", (540, 1080)),
        ("9:30 - 17:45", (570, 1065)),
        ("22:00-02:00", (1320, 1560)),
        ("00:00-24:00", (0, 1440)),
        ("18:00-00:00", (1080, 1440)),
    ],
)
def test_parse_range(spec: str, minutes: tuple[int, int]) -> None:
    assert parse_range(spec) == minutes


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("9-18", "'9-18' is not a time range like 09:00-18:00"),
        ("09:00", "'09:00' is not a time range like 09:00-18:00"),
        ("25:00-26:00", "'25:00-26:00' is not a time range: hours go to 23 (or 24:00 at the end)"),
        ("09:60-10:00", "'09:60-10:00' is not a time range: hours go to 23"),
        ("24:00-02:00", "'24:00-02:00' is not a time range: hours go to 23"),
        ("10:00-24:30", "'10:00-24:30' is not a time range: hours go to 23"),
        ("10:00-10:00", "'10:00-10:00' starts and ends at the same time; all day is 00:00-24:00"),
    ],
)
def test_bad_ranges(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_range(spec)
    assert str(caught.value).startswith(message)


def test_parse_shifts_refuses_a_day_twice_and_no_days() -> None:
    assert parse_shifts({"sat": "10:00-12:00"}) == (Shift(5, 600, 720),)
    with pytest.raises(ValueError, match=r"^fri is given twice \(in 'mon-fri' and 'fri'\)$"):
        parse_shifts({"mon-fri": "09:00-18:00", "fri": "09:00-16:00"})
    with pytest.raises(ValueError, match="lists no days"):
        parse_shifts({})


def test_holiday_formats() -> None:
    assert parse_holiday("2026-12-25") == date(2026, 12, 25)
    assert parse_holiday(date(2026, 12, 25)) == date(2026, 12, 25)
    assert parse_holiday("12-25") == (12, 25)
    assert parse_holiday("02-29") == (2, 29)
    for bad in ("2026-02-30", "13-01", "Dec 25", "20261225", "2026-1-5"):
        with pytest.raises(ValueError, match="is not a date like 2026-12-25"):
            parse_holiday(bad)
    with pytest.raises(ValueError, match="is not a date"):
        parse_holiday(datetime(2026, 12, 25, 10, 0))


def test_unknown_time_zone_suggests_a_close_one() -> None:
    with pytest.raises(ValueError) as caught:
        WorkingHours.from_spec("Europe/Chisinu")
    assert str(caught.value) == (
        "unknown time zone 'Europe/Chisinu' (did you mean 'Europe/Chisinau'?);"
        " use a name like Europe/Chisinau or UTC"
    )
    with pytest.raises(ValueError, match=re.escape("unknown time zone '../etc/passwd'")):
        zone("../etc/passwd")


def test_shifts_are_checked() -> None:
    with pytest.raises(ValueError):
        Shift(7, 0, 60)
    with pytest.raises(ValueError):
        Shift(0, 600, 600)
