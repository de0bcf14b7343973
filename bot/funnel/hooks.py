"""What the rest of Nudge tells the funnels, inside its own transaction.

A customer's message or button, an event from the shop, an opt-out, a hand-off: each may start
a funnel, answer a `wait_for_reply`, snooze, or end enrollments by an `exit_when` rule. These
run in the caller's unit of work, so the funnel's reaction commits with what caused it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.funnel.catalog import FunnelCatalog
from bot.funnel.context import exit_reason
from bot.funnel.db_ports import BUTTON_PREFIX
from bot.funnel.engine import FunnelEngine, Reply
from bot.funnel.entering import Entry
from bot.funnel.model import Funnel, SendStep
from bot.funnel.runner import FunnelRunner, event_starts

log = logging.getLogger(__name__)

ENROLL_EVENT = "enroll"  # an Events API event that enrolls its contact into `data.funnel`
ShopEvent = tuple[int, str, Mapping[str, Any]]
"""A shop event for the funnels: the contact, the event's name, its data."""


class FunnelHooks:
    def __init__(self, runner: FunnelRunner, catalog: Any) -> None:
        self._runner = runner
        self._catalog = catalog  # a callable returning the current FunnelCatalog

    @property
    def catalog(self) -> FunnelCatalog:
        current: FunnelCatalog = self._catalog()
        return current

    async def on_event(
        self, uow: Any, contact_id: int, name: str, data: Mapping[str, Any], at: datetime
    ) -> int:
        """A shop event: goal exits first, then the funnels it starts; the number started.

        The event `enroll` with `data.funnel` puts the contact into that funnel (its trigger
        is usually `api: true`); `data.event` becomes the enrollment's event data."""
        return await self.on_events(uow, [(contact_id, name, data)], at)

    async def on_events(self, uow: Any, events: Sequence[ShopEvent], at: datetime) -> int:
        """`on_event` for a batch of events, in order; the number of enrollments started.

        The funnels each event starts are entered together (`enroll_many`: one query per kind
        for the lot, not five statements an event) when the batch ends, or earlier when the
        same contact has another event: only a contact's own events can change what its next
        one does (a goal exit, being inside a funnel), so the outcome is the one-by-one one.
        Raises ValueError on an `enroll` of an unknown funnel (nothing of the batch is kept)."""
        waiting: dict[str, tuple[Funnel, list[Entry]]] = {}
        contacts: set[int] = set()
        started = 0
        for contact_id, name, data in events:
            if contact_id in contacts:
                started += await self._enroll_waiting(uow, waiting, at)
                contacts.clear()
            await self._exit_where(uow, contact_id, at, "event", name)
            for funnel, event in self._starts(name, data):
                waiting.setdefault(funnel.id, (funnel, []))[1].append((contact_id, event))
            contacts.add(contact_id)
        return started + await self._enroll_waiting(uow, waiting, at)

    def _starts(self, name: str, data: Mapping[str, Any]) -> list[tuple[Funnel, Mapping[str, Any]]]:
        """The funnels the event `name` starts, each with the event data to enter with."""
        if name == ENROLL_EVENT:
            funnel = self.catalog.get(str(data.get("funnel", "")))
            if funnel is None:
                raise ValueError(f"enroll: no funnel {data.get('funnel')!r}")
            payload = data.get("event", {})
            return [(funnel, payload if isinstance(payload, Mapping) else {})]
        started = self.catalog.by_trigger_event(name)
        return [(funnel, data) for funnel in started if event_starts(funnel, name, data)]

    async def _enroll_waiting(
        self, uow: Any, waiting: dict[str, tuple[Funnel, list[Entry]]], at: datetime
    ) -> int:
        started = 0
        for funnel, entries in waiting.values():
            started += len(await self._runner.enroll_many(uow, funnel, entries, at))
        waiting.clear()
        return started

    async def on_message(
        self, uow: Any, contact_id: int, text: str, language: str | None, at: datetime
    ) -> bool:
        """The customer wrote: answers a waiting question, or exits on `replied`; keywords.

        True when a funnel was waiting for this reply: the bot then does not answer it too."""
        answered = False
        for enrollment, funnel in await self._open(uow, contact_id):
            if enrollment.status is EnrollmentStatus.WAITING_REPLY:
                await self._reply(uow, funnel, enrollment, Reply(text, None, language), at)
                answered = True
            elif (reason := exit_reason(funnel, "replied")) is not None:
                await self._exit(uow, funnel, enrollment, reason, at)
        for funnel in self.catalog.by_keyword(text):
            entered = await self._runner.enroll(uow, funnel, contact_id, {"text": text}, at)
            answered = answered or entered is not None
        return answered

    async def on_button(
        self, uow: Any, contact_id: int, data: str, language: str | None, at: datetime
    ) -> bool:
        """A funnel button (`fn:<enrollment>:<step>:<value>`); False when `data` is not ours."""
        if not data.startswith(BUTTON_PREFIX):
            return False
        raw_id, _, rest = data.removeprefix(BUTTON_PREFIX).partition(":")
        step_id, _, value = rest.partition(":")
        enrollment = await uow.enrollments.get(int(raw_id)) if raw_id.isdigit() else None
        funnel = self.catalog.get(enrollment.funnel_id) if enrollment else None
        if enrollment is None or funnel is None or enrollment.contact_id != contact_id:
            return True  # a stale or forged button: nothing to do, nothing to say
        if not enrollment.status.is_open:
            return True
        if value == "snooze":
            version = enrollment.version
            ports = self._runner.ports(uow)
            snoozed = FunnelEngine(ports).snooze(enrollment, _snooze_of(funnel, step_id), at)
            await self._save(uow, snoozed, version, ports)
        elif enrollment.status is EnrollmentStatus.WAITING_REPLY:
            await self._reply(uow, funnel, enrollment, Reply(value, value, language), at)
        elif reason := exit_reason(funnel, "button", value) or exit_reason(funnel, "replied"):
            await self._exit(uow, funnel, enrollment, reason, at)
        return True

    async def on_opted_out(self, uow: Any, contact_id: int, at: datetime) -> None:
        """Marketing funnels end for a contact who opted out (service funnels go on)."""
        for enrollment, funnel in await self._open(uow, contact_id):
            if funnel.marketing or exit_reason(funnel, "opted_out"):
                await self._exit(uow, funnel, enrollment, "opted_out", at)

    async def on_handed_off(self, uow: Any, contact_id: int, at: datetime) -> None:
        """Funnels with `exit_when: handed_off` end; the others pause until the person is done."""
        await self._exit_where(uow, contact_id, at, "handed_off", None)

    # -- helpers ---------------------------------------------------------------------------

    async def _open(self, uow: Any, contact_id: int) -> list[tuple[Enrollment, Funnel]]:
        found = []
        for enrollment in await uow.enrollments.open_for_contact(contact_id):
            funnel = self.catalog.get(enrollment.funnel_id)
            if funnel is not None:
                found.append((enrollment, funnel))
        return found

    async def _exit_where(
        self, uow: Any, contact_id: int, at: datetime, signal: str, value: str | None
    ) -> None:
        for enrollment, funnel in await self._open(uow, contact_id):
            reason = exit_reason(funnel, signal, value)
            if reason is not None:
                goal = signal == "event"
                await self._exit(uow, funnel, enrollment, reason, at, goal=goal)

    async def _reply(
        self, uow: Any, funnel: Funnel, enrollment: Enrollment, reply: Reply, at: datetime
    ) -> None:
        version = enrollment.version
        await uow.funnel_log.add(
            FunnelLogEntry.of(enrollment, FunnelLogKind.REPLIED, at, reply.text[:200])
        )
        ports = self._runner.ports(uow)
        after = await FunnelEngine(ports).on_reply(funnel, enrollment, reply, at)
        await self._save(uow, after, version, ports)

    async def _exit(
        self,
        uow: Any,
        funnel: Funnel,
        enrollment: Enrollment,
        reason: str,
        at: datetime,
        goal: bool = False,
    ) -> None:
        version = enrollment.version
        ended = FunnelEngine(self._runner.ports(uow)).exit(enrollment, reason, at)
        if await uow.enrollments.save(ended, version):
            kind = FunnelLogKind.GOAL if goal else FunnelLogKind.EXITED
            await uow.funnel_log.add(FunnelLogEntry.of(ended, kind, at, reason))
            await self._runner.announce(uow, ended, at, goal=goal)

    async def _save(self, uow: Any, enrollment: Enrollment, version: int, ports: Any) -> None:
        if not await uow.enrollments.save(enrollment, version):
            # Its messages are not stored either: they belong to the change that was not made.
            log.info("enrollment %s changed meanwhile; this reply is not applied", enrollment.id)
            return
        await ports.store_sends()
        if ports.log:
            await uow.funnel_log.add_many(ports.log)


def _snooze_of(funnel: Funnel, step_id: str) -> timedelta:
    step = funnel.step(step_id)
    if isinstance(step, SendStep):
        for button in step.buttons:
            if button.snooze is not None:
                return button.snooze
    return timedelta(days=1)  # the button's step was edited away: a day is the common "later"
