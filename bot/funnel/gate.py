"""May a funnel message go out now? Quiet hours and the frequency cap, as pure functions shared
by the database runner and the simulator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.funnel.model import FrequencyCap, QuietHours


def quiet_until(
    quiet: QuietHours | None, at: datetime, contact_zone: str | None, fallback_zone: str
) -> datetime | None:
    """When the quiet hours around `at` end (UTC), or None when `at` is not inside them.

    They are read in the contact's time zone, else the quiet hours' own, else `fallback_zone`
    (the funnel's, else config's): a night is the contact's night when we know where they are.
    """
    if quiet is None:
        return None
    zone = ZoneInfo(contact_zone or quiet.timezone or fallback_zone)
    local = at.astimezone(zone)
    if not quiet.contains(local.time()):
        return None
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:  # the quiet hours wrap past midnight: they end tomorrow morning
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(UTC)


def cap_until(
    sent_times: Sequence[datetime], cap: FrequencyCap | None, at: datetime
) -> datetime | None:
    """When the cap allows one more marketing message, or None when it allows one at `at`.

    `sent_times` are the contact's marketing messages within the last `cap.per` (any order)."""
    if cap is None:
        return None
    recent = sorted(t for t in sent_times if at - cap.per < t <= at)
    if len(recent) < cap.messages:
        return None
    # The window frees a place when the oldest message that fills it leaves the window.
    return recent[len(recent) - cap.messages] + cap.per
