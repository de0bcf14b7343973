"""Durations (`30m`, `2h`, `1d12h`) and times of day (`09:00`) as funnel files write them.

The duration grammar, on purpose small: one or more `<whole number><unit>` groups with no spaces,
units from largest to smallest, each unit at most once:

    w  weeks   d  days   h  hours   m  minutes   s  seconds

`30m`, `2h`, `1d12h`, `2w`, `90s` are durations; `1.5h`, `2 h`, `1h1d`, `P1D` and a bare `30`
are not (a bare number would leave the unit to guesswork). A duration is always longer than zero.
"""

from __future__ import annotations

import re
from datetime import time, timedelta

UNITS: dict[str, timedelta] = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
MAX_DURATION = timedelta(days=3660)  # ten years: anything longer is a typo, not a plan

GRAMMAR_HINT = "write a whole number and a unit (w, d, h, m, s), like 30m, 2h or 1d12h"


class DurationError(ValueError):
    """The text is not a duration (or a time of day); the message says what is expected."""


def parse_duration(text: object) -> timedelta:
    """`"1d12h"` -> `timedelta(days=1, hours=12)`; raises DurationError with a plain sentence."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise DurationError(f"a duration is expected: {GRAMMAR_HINT}")
    if isinstance(text, int):
        raise DurationError(f"`{text}` has no unit: write {text}m, {text}h or {text}d")
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if not value or match is None:
        raise DurationError(f"`{value}` is not a duration: {GRAMMAR_HINT}")
    total = timedelta()
    try:
        for amount, unit in zip(match.groups(), UNITS.values(), strict=True):
            if amount is not None:
                total += int(amount) * unit
    except OverflowError:  # more days than a timedelta holds: far past the limit below
        raise DurationError(f"`{value}` is longer than ten years") from None
    if total <= timedelta():
        raise DurationError(f"`{value}` is zero: a duration must be longer than that")
    if total > MAX_DURATION:
        raise DurationError(f"`{value}` is longer than ten years")
    return total


def format_duration(delta: timedelta) -> str:
    """The canonical text of a duration: `timedelta(hours=36)` -> `1d12h`."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in UNITS.items():
        count, seconds = divmod(seconds, int(size.total_seconds()))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_time_of_day(text: object) -> time:
    """`"09:00"` -> `time(9, 0)`; 24-hour clock, minutes required."""
    if not isinstance(text, str) or _TIME.fullmatch(text.strip()) is None:
        shown = text if isinstance(text, str) else repr(text)
        hint = 'write it as HH:MM on a 24-hour clock, in quotes, like "09:00"'
        if isinstance(text, int):
            # YAML 1.1 reads an unquoted 09:00 as a base-60 number (540)
            hint = 'put the time in quotes, like "09:00": unquoted, YAML reads it as a number'
        raise DurationError(f"`{shown}` is not a time of day: {hint}")
    hours, minutes = (int(part) for part in text.strip().split(":"))
    return time(hours, minutes)
