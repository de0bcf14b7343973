"""When a team answers: weekly shifts in the team's own time zone, minus holidays.

Shifts are wall-clock times ("09:00-18:00" in Europe/Chisinau), so daylight saving time moves
them in UTC the way it moves the agents' working day. A shift may run past midnight
("22:00-02:00"); it belongs to the day it starts, so a holiday on that day cancels the whole
night shift and a holiday on the next day does not cut it short.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: i for names in (WEEKDAYS, _FULL_NAMES) for i, name in enumerate(names)}
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_YEARLY = re.compile(r"^(\d{2})-(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

HoursSpec = Mapping[str, str | Sequence[str]]
"""As written in config.yaml: `{"mon-fri": "09:00-18:00", "sat": ["10:00-12:00", ...]}`."""


@dataclass(frozen=True, slots=True)
class Shift:
    weekday: int  # 0 = Monday: the local day the shift starts on
    start: int  # minutes after that day's midnight
    end: int  # likewise; more than MINUTES_PER_DAY when the shift runs into the next day

    def __post_init__(self) -> None:
        if not (0 <= self.weekday < 7 and 0 <= self.start < self.end <= 2 * MINUTES_PER_DAY):
            raise ValueError(f"not a valid shift: {self!r}")


ALL_WEEK = tuple(Shift(day, 0, MINUTES_PER_DAY) for day in range(7))


@dataclass(frozen=True)
class WorkingHours:
    timezone: str = "UTC"
    shifts: tuple[Shift, ...] = ALL_WEEK
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()  # (month, day), every year

    def __post_init__(self) -> None:
        zone(self.timezone)  # fail when built, not at the first customer's question

    @classmethod
    def always(cls) -> WorkingHours:
        """Open around the clock, every day, no holidays."""
        return cls()

    @classmethod
    def from_spec(
        cls,
        timezone: str = "UTC",
        hours: HoursSpec | None = None,
        holidays: Iterable[str | date] = (),
    ) -> WorkingHours:
        """Hours as config.yaml writes them; `hours=None` means around the clock.
        Raises ValueError with a sentence naming what is wrong."""
        shifts = ALL_WEEK if hours is None else parse_shifts(hours)
        once, yearly = parse_holidays(holidays)
        return cls(timezone, shifts, once, yearly)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def is_open(self, at: datetime) -> bool:
        """Whether the team answers at `at` (an aware datetime)."""
        local = at.astimezone(zone(self.timezone))
        today = local.date()
        minute = local.hour * 60 + local.minute
        # Now is `minute` into today's shifts and `minute + 1440` into yesterday's.
        for start_day, into in ((today, minute), (today - timedelta(days=1), minute + 1440)):
            if self.is_holiday(start_day):
                continue
            weekday = start_day.weekday()
            if any(s.weekday == weekday and s.start <= into < s.end for s in self.shifts):
                return True
        return False

    def next_open(self, at: datetime) -> datetime | None:
        """The first moment from `at` on when the team answers, in UTC: `at` itself when it is
        open now; None when it never opens (no shifts, or holidays on every working day)."""
        if self.is_open(at):
            return at.astimezone(UTC)
        tz = zone(self.timezone)
        first = at.astimezone(tz).date() - timedelta(days=1)
        # Each holiday can close one day of the week, so this many weeks always reach an open
        # day unless the holidays cover every working day.
        horizon = 7 * (len(self.holidays) + len(self.yearly_holidays) + 2)
        for offset in range(horizon):
            day = first + timedelta(days=offset)
            if self.is_holiday(day):
                continue
            starts = sorted(s.start for s in self.shifts if s.weekday == day.weekday())
            for start in starts:
                moment = local_instant(day, start, tz)
                # A shift that begins and ends inside a DST gap never opens that day.
                if moment > at and self.is_open(moment):
                    return moment
        return None

    def open_until(self, at: datetime, limit: datetime) -> datetime:
        """When the stretch of open time that contains `at` ends, or `limit` if it runs past
        `limit` (a team open around the clock never closes). `at` must be open."""
        tz = zone(self.timezone)
        moment = at
        while moment < limit and self.is_open(moment):
            moment = max(self._shift_end(moment, tz), moment + timedelta(minutes=1))
        return min(moment, limit)

    def _shift_end(self, at: datetime, tz: ZoneInfo) -> datetime:
        """The latest end among the shifts open at `at` (overlaps and back-to-back shifts are
        followed by the caller, which asks again from here)."""
        local = at.astimezone(tz)
        today = local.date()
        minute = local.hour * 60 + local.minute
        ends = [at]
        for start_day, into in ((today, minute), (today - timedelta(days=1), minute + 1440)):
            if self.is_holiday(start_day):
                continue
            weekday = start_day.weekday()
            ends += [
                local_instant(start_day, s.end, tz)
                for s in self.shifts
                if s.weekday == weekday and s.start <= into < s.end
            ]
        return max(ends)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError naming it (and a close match) when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ValueError(f"unknown time zone '{name}'{hint}; use a name like Europe/Chisinau or UTC")


def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC moment when the wall clock in `tz` shows `minute` minutes after `day`'s midnight.
    When DST skips that wall time, the moment the clocks jump over it; when DST repeats it,
    its first occurrence."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    moment = wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: the first occurrence
    if moment.astimezone(tz).replace(tzinfo=None) == wall:
        return moment
    # `wall` does not exist. fold=1 reads it with the offset after the jump, which lands
    # before the jump; fold=0 lands after it. Bisect for the first second showing >= wall.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = moment
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def parse_days(spec: str) -> tuple[int, ...]:
    """`mon-fri`, `sat`, `sun`, `fri-mon` (wraps), `mon, wed` or `daily` -> weekday numbers."""
    days: list[int] = []
    for part in spec.split(","):
        words = [word.strip().lower() for word in part.split("-")]
        if words == ["daily"]:
            days.extend(range(7))
            continue
        if not 1 <= len(words) <= 2 or any(word not in _DAY_NUMBERS for word in words):
            raise ValueError(
                f"'{spec}' is not a day or a range of days; write mon, tue, wed, thu, fri,"
                " sat, sun, a range like mon-fri, or daily"
            )
        first, last = _DAY_NUMBERS[words[0]], _DAY_NUMBERS[words[-1]]
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    return tuple(dict.fromkeys(days))


def parse_range(spec: str) -> tuple[int, int]:
    """`09:00-18:00` -> (540, 1080) minutes; `22:00-02:00` crosses midnight -> (1320, 1560);
    `00:00-24:00` is the whole day."""
    match = _RANGE.match(spec)
    if match is None:
        raise ValueError(f"'{spec}' is not a time range like 09:00-18:00")
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 > 0):
        raise ValueError(f"'{spec}' is not a time range: hours go to 23 (or 24:00 at the end)")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise ValueError(f"'{spec}' starts and ends at the same time; all day is 00:00-24:00")
    return (start, end) if end > start else (start, end + MINUTES_PER_DAY)


def parse_shifts(hours: HoursSpec) -> tuple[Shift, ...]:
    """The shifts of `{days: range or [ranges]}`; a day named under two keys is an error,
    since one of them would silently win."""
    if not hours:
        raise ValueError("lists no days; leave hours out for a team that is always open")
    shifts: list[Shift] = []
    named_in: dict[int, str] = {}
    for days_spec, ranges in hours.items():
        for day in parse_days(days_spec):
            if day in named_in:
                raise ValueError(
                    f"{WEEKDAYS[day]} is given twice (in '{named_in[day]}' and '{days_spec}')"
                )
            named_in[day] = days_spec
            for text in [ranges] if isinstance(ranges, str) else ranges:
                shifts.append(Shift(day, *parse_range(text)))
    return tuple(shifts)


def parse_holiday(value: str | date) -> date | tuple[int, int]:
    """`2026-12-25` (that day) or `12-25` (every year) -> a date or (month, day)."""
    if isinstance(value, datetime):  # YAML reads `2026-12-25 10:00` as a moment
        return _bad_date(value.isoformat(sep=" "))
    if isinstance(value, date):
        return value
    text = str(value).strip()
    yearly = _YEARLY.match(text)
    try:
        if yearly:
            month, day = int(yearly[1]), int(yearly[2])
            date(2000, month, day)  # a leap year, so 02-29 is accepted
            return (month, day)
        return date.fromisoformat(text) if _DATE.match(text) else _bad_date(text)
    except ValueError:
        return _bad_date(text)


def parse_holidays(
    values: Iterable[str | date],
) -> tuple[frozenset[date], frozenset[tuple[int, int]]]:
    """Holidays as config.yaml writes them -> (dates, yearly (month, day) pairs)."""
    once: set[date] = set()
    yearly: set[tuple[int, int]] = set()
    for value in values:
        parsed = parse_holiday(value)
        if isinstance(parsed, date):
            once.add(parsed)
        else:
            yearly.add(parsed)
    return frozenset(once), frozenset(yearly)


def _bad_date(text: str) -> date:
    raise ValueError(f"'{text}' is not a date like 2026-12-25 (or 12-25 for every year)")
