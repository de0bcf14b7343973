"""Periods: `--since`, `--from`/`--to` in a time zone, and the errors for bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.analytics.period import Bucket, PeriodError, parse_period, zone_named

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHISINAU = zone_named("Europe/Chisinau")


def test_since_counts_back_from_now() -> None:
    period = parse_period(NOW, CHISINAU, since="30d")
    assert (period.start, period.end) == (NOW - timedelta(days=30), NOW)
    assert parse_period(NOW, CHISINAU) == period  # the default


def test_dates_are_whole_local_days() -> None:
    period = parse_period(NOW, CHISINAU, first="2026-11-02", last="2026-11-08")
    # Chisinau is UTC+2 in November: local midnight is 22:00 UTC the day before.
    assert period.start == datetime(2026, 11, 1, 22, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 8, 22, tzinfo=UTC)
    assert period.label == "2026-11-02 .. 2026-11-08 (Europe/Chisinau)"
    # 23:30 UTC on the 1st is 01:30 on the 2nd there.
    assert period.bucket_of(datetime(2026, 11, 1, 23, 30, tzinfo=UTC), Bucket.DAY) == date(
        2026, 11, 2
    )
    one_day = parse_period(NOW, CHISINAU, last="2026-11-05")
    assert one_day.end - one_day.start == timedelta(days=1)
    to_today = parse_period(NOW, CHISINAU, first="2026-11-19")
    assert to_today.end == datetime(2026, 11, 20, 22, tzinfo=UTC)


def test_a_summer_time_change_keeps_days_whole() -> None:
    # Chisinau leaves summer time on 25 October 2026: that local day is 25 hours long.
    period = parse_period(NOW, CHISINAU, first="2026-10-25", last="2026-10-25")
    assert period.end - period.start == timedelta(hours=25)


def test_weeks_start_on_monday() -> None:
    period = parse_period(NOW, CHISINAU, first="2026-11-04", last="2026-11-17")
    assert list(period.buckets(Bucket.WEEK)) == [
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 16),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "30"}, "--since: `30` is not a duration"),
        ({"since": "1d", "first": "2026-11-01"}, "not both"),
        ({"first": "2026-13-01"}, "--from: '2026-13-01' is not a date"),
        ({"first": "2026-11-09", "last": "2026-11-01"}, "--to 2026-11-01 is before --from"),
        ({"first": "2026-12-01"}, r"--from 2026-12-01 is after today \(2026-11-20 in Europe"),
        ({"since": "99999999999d"}, "--since: `99999999999d` is longer than ten years"),
        ({"first": "0001-01-01", "last": "0001-01-02"}, "0001-01-01 is outside the dates"),
        ({"first": "9999-12-30", "last": "9999-12-31"}, "9999-12-31 is outside the dates"),
    ],
)
def test_bad_periods_say_what_is_wrong(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(NOW, CHISINAU, **kwargs)


def test_unknown_zone() -> None:
    with pytest.raises(PeriodError, match="'Mars/Base' is not a time zone"):
        zone_named("Mars/Base")
