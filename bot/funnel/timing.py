"""When a `wait` step ends: after a duration, or at a time of day (on given weekdays) in the
contact's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.funnel.steps import WaitStep


def wait_until(step: WaitStep, now: datetime, timezone: str) -> datetime:
    """The UTC moment the wait ends; `until` means the next such wall-clock time after `now`."""
    if step.duration is not None:
        return now + step.duration
    if step.until is None:  # the loader guarantees one of the two
        return now
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone)
    for days in range(0, 8):
        day = local_now.date() + timedelta(days=days)
        if step.weekdays and day.weekday() not in step.weekdays:
            continue
        # Built as wall-clock time in the zone, so DST moves it the way people expect.
        candidate = datetime.combine(day, step.until, tzinfo=zone)
        if candidate > local_now:
            return candidate.astimezone(UTC)
    return now + timedelta(days=7)  # unreachable with at least one weekday; a safe fallback
