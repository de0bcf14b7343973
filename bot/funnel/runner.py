"""The funnel runner: enrolls contacts and runs due steps, on stored rows, in batches.

APScheduler (through a `Pump`) only wakes `tick`; the work is in the `enrollments` rows. A tick
claims a batch of due enrollments (a lease keeps other workers off them and brings them back if
this worker dies), runs the engine for each with the database ports, and saves each with a
compare-and-set on its version, together with the outbox rows and log lines the steps produced,
in one transaction per batch. If anything in a batch fails, its enrollments are run one by one,
so one broken enrollment cannot hold up the rest.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.funnel.catalog import FunnelCatalog
from bot.funnel.conditions import ConditionError
from bot.funnel.db_ports import DatabasePorts, FunnelRules, HandoffRequester
from bot.funnel.engine import FunnelEngine
from bot.funnel.entering import Entry, admit
from bot.funnel.model import EventTrigger, Funnel
from bot.rendering import Renderer

log = logging.getLogger(__name__)


class Publish(Protocol):
    async def __call__(
        self, uow: Any, type: str, payload: dict[str, Any], at: datetime, *, key: str | None = None
    ) -> int: ...


YIELD_EVERY = 10  # steps run between two chances for other tasks (web chat, webhooks) to run
LEASE = timedelta(minutes=2)  # a claimed batch comes back to the queue if not saved by then
_END_KINDS = {
    EnrollmentStatus.COMPLETED: FunnelLogKind.COMPLETED,
    EnrollmentStatus.EXITED: FunnelLogKind.EXITED,
    EnrollmentStatus.EXPIRED: FunnelLogKind.EXPIRED,
    EnrollmentStatus.FAILED: FunnelLogKind.FAILED,
}


@dataclass(frozen=True, slots=True)
class RunReport:
    claimed: int = 0
    saved: int = 0
    lost: int = 0  # another worker saved a newer state first


class FunnelRunner:
    def __init__(
        self,
        uow_factory: Callable[[], Any],
        catalog: Callable[[], FunnelCatalog],
        renderer: Renderer,
        outbox: Outbox,
        rules: FunnelRules,
        clock: Clock,
        *,
        handoff: HandoffRequester | None = None,
        batch_size: int = 500,
        on_outbox: Callable[[], None] = lambda: None,
        publish: Publish | None = None,
    ) -> None:
        self._uow = uow_factory
        self._catalog = catalog
        self._renderer = renderer
        self._outbox = outbox
        self._rules = rules
        self._clock = clock
        self._handoff = handoff
        self.batch_size = batch_size
        self.on_outbox = on_outbox
        self.publish = publish
        self.surveys: Any = None  # SurveyService, set by the app: funnels' `survey` steps

    def ports(self, uow: Any) -> DatabasePorts:
        return DatabasePorts(
            uow,
            self._renderer,
            self._outbox,
            self._rules,
            self._handoff,
            self.tag_added,
            self.surveys,
        )

    async def tag_added(self, uow: Any, contact_id: int, tag: str, at: datetime) -> None:
        """A tag was added to the contact: start the funnels triggered by it."""
        for funnel in self._catalog().by_tag_added(tag):
            await self.enroll(uow, funnel, contact_id, {"tag": tag}, at)

    # -- due steps -----------------------------------------------------------------------------

    async def tick(self) -> RunReport:
        """Run one batch of due enrollments."""
        now = self._clock.now()
        async with self._uow() as uow:
            claimed = await uow.enrollments.claim_due(now, self.batch_size, now + LEASE)
            await uow.commit()
        if not claimed:
            return RunReport()
        await _let_others_run()  # the claim and its commit were one slice of the loop's time
        try:
            async with self._uow() as uow:
                # The engine changes the objects it runs: keep the claimed state for a retry.
                saved, lost = await self._run_all(uow, [_copy(e) for e in claimed], now)
                if lost:  # its messages must not go out: undo the batch, redo it row by row
                    raise _LostRace(lost)
                await uow.commit()
        except _LostRace:
            saved, lost = await self._one_by_one(claimed, now)
        except Exception:
            log.exception(
                "a batch of %d funnel steps failed; running them one by one", len(claimed)
            )
            saved, lost = await self._one_by_one(claimed, now)
        if saved:
            self.on_outbox()
        return RunReport(len(claimed), saved, lost)

    async def _run_all(self, uow: Any, batch: list[Enrollment], now: datetime) -> tuple[int, int]:
        ports = self.ports(uow)
        engine = FunnelEngine(ports)
        catalog = self._catalog()
        await ports.preload((e.contact_id for e in batch), now)
        results: list[tuple[Enrollment, int]] = []
        for index, enrollment in enumerate(batch):
            if index % YIELD_EVERY == 0:
                # On SQLite the statements run inline: without this a whole batch would hold
                # the event loop; the transaction stays ours (other units of work wait for it).
                await _let_others_run()
            version = enrollment.version
            funnel = catalog.get(enrollment.funnel_id)
            if funnel is None:
                enrollment = engine.exit(enrollment, "the funnel file was removed", now)
            else:
                enrollment = await engine.on_due(funnel, enrollment, now)
            results.append((enrollment, version))
        await _let_others_run()  # the saves and the commit are the batch's last slice
        await ports.store_sends()
        # One statement for the whole batch: a stale worker's rows simply lose the race.
        won = await uow.enrollments.save_many(results)
        for (enrollment, _), ok in zip(results, won, strict=True):
            if ok:
                _log_end(ports.log, enrollment, now)
                await self.announce(uow, enrollment, now)
        lost_ids = {e.id for (e, _), ok in zip(results, won, strict=True) if not ok}
        entries = [entry for entry in ports.log if entry.enrollment_id not in lost_ids]
        await uow.funnel_log.add_many(entries)
        return len(results) - len(lost_ids), len(lost_ids)

    async def _one_by_one(self, batch: list[Enrollment], now: datetime) -> tuple[int, int]:
        saved = lost = 0
        for enrollment in batch:
            try:
                async with self._uow() as uow:
                    one = _copy(enrollment)
                    one_saved, one_lost = await self._run_all(uow, [one], now)
                    if not one_lost:  # another worker saved it first: what we did is undone
                        await uow.commit()
                saved, lost = saved + one_saved, lost + one_lost
            except Exception as exc:
                log.exception("funnel enrollment %s failed", enrollment.id)
                await self._mark_failed(enrollment, f"{type(exc).__name__}: {exc}", now)
        return saved, lost

    async def _mark_failed(self, enrollment: Enrollment, reason: str, now: datetime) -> None:
        version = enrollment.version
        enrollment.status = EnrollmentStatus.FAILED
        enrollment.end_reason = reason[:500]
        enrollment.ended_at, enrollment.due_at, enrollment.updated_at = now, None, now
        async with self._uow() as uow:
            if await uow.enrollments.save(enrollment, version):
                await uow.funnel_log.add(
                    FunnelLogEntry.of(enrollment, FunnelLogKind.FAILED, now, reason[:500])
                )
            await uow.commit()

    async def announce(
        self, uow: Any, enrollment: Enrollment, now: datetime, goal: bool = False
    ) -> None:
        """Tell the shop's webhooks that an enrollment reached its goal or exited."""
        if self.publish is None or enrollment.ended_at != now:
            return
        if goal:
            kind = "funnel.goal_reached"
        elif enrollment.status in (EnrollmentStatus.EXITED, EnrollmentStatus.EXPIRED):
            kind = "funnel.exited"
        elif enrollment.status is EnrollmentStatus.COMPLETED:
            kind = "funnel.completed"
        else:
            return
        payload = {
            "funnel": enrollment.funnel_id,
            "contact_id": enrollment.contact_id,
            "enrollment_id": enrollment.id,
            "status": enrollment.status.value,
            "reason": enrollment.end_reason,
            "step": enrollment.step_id,
            "variant": enrollment.variant,
        }
        await self.publish(uow, kind, payload, now, key=f"{kind}:{enrollment.id}")

    # -- entering ------------------------------------------------------------------------------

    async def enroll(
        self,
        uow: Any,
        funnel: Funnel,
        contact_id: int,
        event: Mapping[str, Any],
        now: datetime,
    ) -> Enrollment | None:
        """Enter `contact_id` into `funnel` if its audience and re-entry policy allow; the first
        step runs at the runner's next tick (the caller wakes it after committing)."""
        entered = await self.enroll_many(uow, funnel, [(contact_id, event)], now)
        return entered[0] if entered else None

    async def enroll_many(
        self, uow: Any, funnel: Funnel, entries: Iterable[Entry], now: datetime
    ) -> list[Enrollment]:
        """`enroll` for many contacts at once (a campaign, a scan's batch): the same checks
        (already inside, re-entry, audience) read with one query per kind for the lot, the
        enrollments and their "entered" lines written with one statement each. The ones
        made, in entry order; a contact listed twice enters once."""
        fresh = await admit(uow, funnel, entries, now)
        if not fresh:
            return []
        for enrollment, new_id in zip(fresh, await uow.enrollments.add_many(fresh), strict=True):
            enrollment.id, enrollment.version = new_id, 0
        await uow.funnel_log.add_many(
            FunnelLogEntry.of(enrollment, FunnelLogKind.ENTERED, now) for enrollment in fresh
        )
        return fresh


async def _let_others_run() -> None:
    """Let the tasks that became ready meanwhile run (web chat, webhooks). One `sleep(0)` is not
    enough: a task woken by a timer or a socket needs a few loop iterations (see `Pump`)."""
    for _ in range(3):
        await asyncio.sleep(0)


def _copy(enrollment: Enrollment) -> Enrollment:
    """A copy the engine may change: only the two mappings are mutable (6x cheaper than a
    deepcopy of the whole batch)."""
    return dataclasses.replace(
        enrollment, event=dict(enrollment.event), variables=copy.deepcopy(enrollment.variables)
    )


class _LostRace(Exception):
    """Another worker saved some enrollments of this batch first (its lease had run out)."""


def event_starts(funnel: Funnel, name: str, data: Mapping[str, Any]) -> bool:
    """Whether the event `name` with `data` starts `funnel` (its trigger and `where`)."""
    trigger = funnel.trigger
    if not isinstance(trigger, EventTrigger) or trigger.name != name:
        return False
    if trigger.where is None:
        return True
    try:
        return trigger.where.evaluate({**data, "event": dict(data)})
    except ConditionError as exc:
        log.info("funnel %s: `where` does not apply to this %s: %s", funnel.id, name, exc)
        return False


def _log_end(entries: list[FunnelLogEntry], enrollment: Enrollment, now: datetime) -> None:
    kind = _END_KINDS.get(enrollment.status)
    if kind is not None and enrollment.ended_at == now:
        entries.append(FunnelLogEntry.of(enrollment, kind, now, enrollment.end_reason))
