"""First-response targets: how soon a person must answer a handed-off chat.

A target comes from the team (`first_response_minutes`) and from the contact's tags
(`sla_by_tag`); the strictest one applies, so a VIP in a relaxed team is still answered fast.
The clock runs only while the team is at work: a chat handed off at night is due the target's
length after the team opens, not already breached when it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.handoff.hours import WorkingHours


@dataclass(frozen=True)
class SlaTargets:
    by_team: Mapping[str, timedelta] = field(default_factory=dict)
    by_tag: Mapping[str, timedelta] = field(default_factory=dict)

    def first_response_target(self, team: str, tags: Iterable[str]) -> timedelta | None:
        """The strictest target among the team's and the tags'; None when none is set."""
        have = {tag.strip().casefold() for tag in tags}
        targets = [target for tag, target in self.by_tag.items() if tag.casefold() in have]
        if team in self.by_team:
            targets.append(self.by_team[team])
        return min(targets, default=None)

    def due_at(
        self,
        requested_at: datetime,
        team: str,
        tags: Iterable[str],
        hours: WorkingHours | None = None,
    ) -> datetime | None:
        """When the first response is due for a chat handed off at `requested_at`, counting
        only the team's working `hours` (always open when None); None when there is no target
        or the team never opens."""
        target = self.first_response_target(team, tags)
        if target is None:
            return None
        return add_working_time(requested_at, target, hours or WorkingHours.always())


def add_working_time(start: datetime, amount: timedelta, hours: WorkingHours) -> datetime | None:
    """`start` plus `amount` of open time: the clock stops while the team is closed."""
    moment, left = start, amount
    while True:
        opened = hours.next_open(moment)
        if opened is None:
            return None
        until = hours.open_until(opened, opened + left)
        if until - opened >= left:
            return opened + left
        left -= until - opened
        moment = until
