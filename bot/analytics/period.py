"""The period a report covers: `--since 30d` or `--from`/`--to` dates in a time zone.

A period is the half-open UTC interval `[start, end)`. Dates are days in the report's time zone
(the config's default zone unless told otherwise): `--from 2026-11-01 --to 2026-11-30` starts at
local midnight of the 1st and ends at local midnight after the 30th, so every day is whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.funnel.durations import DurationError, parse_duration


class PeriodError(ValueError):
    """The period cannot be understood; the message says what is expected."""


class Bucket(StrEnum):
    """The width of one point of a trend."""

    DAY = "day"
    WEEK = "week"  # weeks start on Monday


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime  # UTC, included
    end: datetime  # UTC, excluded
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise PeriodError("a period needs timezone-aware start and end")
        if self.end <= self.start:
            raise PeriodError(f"the period ends ({self.end}) before it starts ({self.start})")

    @property
    def label(self) -> str:
        """`2026-11-01 .. 2026-11-30 (Europe/Chisinau)`: the local days it touches."""
        first = self.local_date(self.start)
        last = self.local_date(self.end - timedelta(microseconds=1))
        return f"{first} .. {last} ({self.zone.key})"

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def bucket_of(self, moment: datetime, bucket: Bucket) -> date:
        """The first local day of the bucket `moment` falls in."""
        day = self.local_date(moment)
        if bucket is Bucket.WEEK:
            return day - timedelta(days=day.weekday())
        return day

    def buckets(self, bucket: Bucket) -> Iterator[date]:
        """Every bucket the period touches, in order (empty ones too: a chart needs them)."""
        current = self.bucket_of(self.start, bucket)
        last = self.bucket_of(self.end - timedelta(microseconds=1), bucket)
        step = timedelta(days=7 if bucket is Bucket.WEEK else 1)
        while current <= last:
            yield current
            current += step


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(f"'{name}' is not a time zone like Europe/Chisinau or UTC") from None


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    try:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, or the day after 9999-12-31
        raise PeriodError(f"{day} is outside the dates a report can cover") from None


def period_since(spec: str, now: datetime, zone: ZoneInfo) -> Period:
    """`30d` (or `12h`, `2w`, ...) back from `now`, up to `now`."""
    try:
        length = parse_duration(spec)
    except DurationError as exc:
        raise PeriodError(f"--since: {exc}") from None
    return Period(now - length, now, zone)


def period_between(first: date, last: date, zone: ZoneInfo) -> Period:
    """The local days `first` to `last`, both included."""
    if last < first:
        raise PeriodError(f"--to {last} is before --from {first}")
    if last == date.max:
        raise PeriodError(f"{last} is outside the dates a report can cover")
    return Period(local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone), zone)


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{option}: '{text}' is not a date like 2026-11-30") from None


def parse_period(
    now: datetime,
    zone: ZoneInfo,
    since: str | None = None,
    first: str | None = None,
    last: str | None = None,
) -> Period:
    """The period of `--since` or of `--from`/`--to` (either may be left out: `--from` alone
    runs to today, `--to` alone covers that one day); the last 30 days when none is given."""
    if since is not None and (first is not None or last is not None):
        raise PeriodError("give --since or --from/--to, not both")
    if first is None and last is None:
        return period_since(since or "30d", now, zone)
    today = now.astimezone(zone).date()
    end_day = parse_date(last, "--to") if last is not None else today
    start_day = parse_date(first, "--from") if first is not None else end_day
    if last is None and start_day > today:
        raise PeriodError(f"--from {start_day} is after today ({today} in {zone.key})")
    return period_between(start_day, end_day, zone)
