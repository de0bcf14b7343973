"""The funnel triggers that come from time, not from an event: `stalled` and `quiet`.

A `Pump` wakes `FunnelScans.tick` every minute or so. For every funnel with such a trigger, a
tick reads one batch of candidates from the funnel's stored scan position (see
`bot.domain.scan_ports`), enrolls them through the runner (audience, re-entry) and stores the
new position, all in one transaction per funnel, so a crash repeats the batch rather than
losing it. Each *moment* (our last word in a conversation, a contact's last message or paid
order) is looked at once, when it becomes `after` old.

The position is the guard against enrolling a contact twice for the same moment; the moment's
id in the enrollment's event data is the second guard (a lost or reset position, `reentry:
always`): a contact whose latest enrollment in the funnel came from the same moment is skipped.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.clock import Clock
from bot.domain.model import ConversationStatus
from bot.domain.scan_ports import (
    QUESTION_MARKS,
    QuietCandidate,
    ScanPosition,
    StalledCandidate,
)
from bot.funnel.catalog import FunnelCatalog
from bot.funnel.model import Funnel, QuietTrigger, StalledTrigger
from bot.funnel.runner import FunnelRunner

log = logging.getLogger(__name__)

# A new `stalled` funnel looks back this far past `after`: a dialog that stalled months ago is
# not a stalled dialog any more (win-back is the `quiet` trigger's job). A new `quiet` funnel
# starts at the beginning of the history and works through it a batch per tick.
DEFAULT_STALLED_LOOKBACK = timedelta(days=7)
# Past every id: "everything at or before this moment has been looked at".
_LAST_ID = 2**63 - 1
LAST_MESSAGE_CHARS = 200
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Moment:
    """One candidate the scan looked at: who, where the scan is after it, and the event data
    to enroll with (None when it does not fire: not a question). `marker` is the key of the
    event data naming the moment, the duplicate guard."""

    contact_id: int
    position: ScanPosition
    event: Mapping[str, Any] | None
    marker: str


class FunnelScans:
    def __init__(
        self,
        uow_factory: Callable[[], Any],
        runner: FunnelRunner,
        catalog_getter: Callable[[], FunnelCatalog],
        clock: Clock,
        *,
        batch_size: int = 500,
        stalled_lookback: timedelta = DEFAULT_STALLED_LOOKBACK,
        on_enrolled: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow_factory
        self._runner = runner
        self._catalog = catalog_getter
        self._clock = clock
        self.batch_size = batch_size
        self.stalled_lookback = stalled_lookback
        self.on_enrolled = on_enrolled  # wakes the runner, so the first step goes out now

    async def tick(self) -> int:
        """One batch per `stalled` / `quiet` funnel; the number of contacts enrolled."""
        now = self._clock.now()
        catalog = self._catalog()
        enrolled = 0
        for funnel in (*catalog.by_trigger_kind("stalled"), *catalog.by_trigger_kind("quiet")):
            try:
                enrolled += await self._scan(funnel, now)
            except Exception:
                # Its position did not move: the same batch is tried again at the next tick.
                log.exception("funnel %s: the %s scan failed", funnel.id, funnel.trigger.kind)
        if enrolled:
            self.on_enrolled()
        return enrolled

    async def _scan(self, funnel: Funnel, now: datetime) -> int:
        trigger = funnel.trigger
        assert isinstance(trigger, StalledTrigger | QuietTrigger)
        key = position_key(funnel)
        older_than = now - trigger.after
        async with self._uow() as uow:
            start = _parse_position(await uow.settings.get(key)) or self._first_position(
                trigger, older_than
            )
            moments, full = await self._moments(uow, trigger, older_than, start)
            enrolled = await self._enroll(uow, funnel, moments, now)
            # A short batch means everything up to `older_than` has been looked at.
            done = moments[-1].position if full else ScanPosition(older_than, _LAST_ID)
            await uow.settings.put(key, _dump_position(done))
            await uow.commit()
        return enrolled

    def _first_position(
        self, trigger: StalledTrigger | QuietTrigger, older_than: datetime
    ) -> ScanPosition | None:
        if isinstance(trigger, StalledTrigger):
            return ScanPosition(older_than - self.stalled_lookback, 0)
        return None  # the repository starts at the beginning

    async def _moments(
        self,
        uow: Any,
        trigger: StalledTrigger | QuietTrigger,
        older_than: datetime,
        start: ScanPosition | None,
    ) -> tuple[list[Moment], bool]:
        """The batch's moments (firing or not), and whether it was full (more may follow)."""
        scans = uow.funnel_scans
        limit = self.batch_size
        if isinstance(trigger, StalledTrigger):
            stalled: list[StalledCandidate] = await scans.stalled_conversations(
                older_than, _status(trigger), trigger.unanswered_question, start, limit
            )
            return _stalled_moments(stalled, trigger.unanswered_question), len(stalled) == limit
        if trigger.of == "purchase":
            buyers: list[QuietCandidate] = await scans.lapsed_buyers(older_than, start, limit)
            found = [_quiet_moment(c, "last_purchase_at", "quiet_since_order") for c in buyers]
        else:
            quiet: list[QuietCandidate] = await scans.quiet_contacts(older_than, start, limit)
            found = [_quiet_moment(c, "last_seen_at", "quiet_since_message") for c in quiet]
        return found, len(found) == limit

    async def _enroll(self, uow: Any, funnel: Funnel, moments: list[Moment], now: datetime) -> int:
        """Enroll the batch's firing moments at once (audience, re-entry); the number entered.
        A moment that does not fire is looked at all the same: the position moves past it."""
        firing = [moment for moment in moments if moment.event is not None]
        latest = await uow.enrollments.entry_states((m.contact_id for m in firing), funnel.id)
        entries = []
        for moment in firing:
            assert moment.event is not None
            last, _inside = latest.get(moment.contact_id, (None, False))
            if last is not None and last.event.get(moment.marker) == moment.event[moment.marker]:
                continue  # this very moment enrolled the contact already
            entries.append((moment.contact_id, moment.event))
        return len(await self._runner.enroll_many(uow, funnel, entries, now))


def position_key(funnel: Funnel) -> str:
    """The `settings` key of the funnel's scan position: per trigger kind (and table), so a
    funnel whose trigger changes kind starts a fresh scan."""
    trigger = funnel.trigger
    kind = f"quiet_{trigger.of}" if isinstance(trigger, QuietTrigger) else trigger.kind
    return f"funnel_scan:{funnel.id}:{kind}"


def is_question(text: str) -> bool:
    """Whether a message of ours ends with a question mark, markup and spaces aside:
    `Shall I book Tuesday?</b>\\n` is a question."""
    return plain_text(text).endswith(QUESTION_MARKS)


def plain_text(text: str) -> str:
    """The text without HTML tags and entities, spaces collapsed."""
    return _SPACES.sub(" ", html.unescape(_TAG.sub("", text))).strip()


def _status(trigger: StalledTrigger) -> ConversationStatus | None:
    return ConversationStatus(trigger.status) if trigger.status is not None else None


def _short(text: str) -> str:
    plain = plain_text(text)
    if len(plain) <= LAST_MESSAGE_CHARS:
        return plain
    return plain[: LAST_MESSAGE_CHARS - 1].rstrip() + "…"


def _stalled_moments(found: list[StalledCandidate], question_only: bool) -> list[Moment]:
    moments = []
    for candidate in found:
        event: dict[str, Any] | None = None
        if not question_only or is_question(candidate.text):
            event = {
                "conversation_id": candidate.conversation_id,
                "status": candidate.status.value,
                "last_message": _short(candidate.text),
                "last_message_at": candidate.sent_at.isoformat(),
                "stalled_since_message": candidate.message_id,
            }
        moments.append(
            Moment(candidate.contact_id, candidate.position, event, "stalled_since_message")
        )
    return moments


def _quiet_moment(candidate: QuietCandidate, since_key: str, marker: str) -> Moment:
    event = {since_key: candidate.since.isoformat(), marker: candidate.source_id}
    return Moment(candidate.contact_id, candidate.position, event, marker)


def _dump_position(position: ScanPosition) -> str:
    return json.dumps({"at": position.at.isoformat(), "id": position.id})


def _parse_position(stored: str | None) -> ScanPosition | None:
    if stored is None:
        return None
    try:
        data = json.loads(stored)
        return ScanPosition(datetime.fromisoformat(data["at"]), int(data["id"]))
    except (ValueError, KeyError, TypeError):
        log.warning("a funnel scan position could not be read (%r): starting afresh", stored)
        return None
