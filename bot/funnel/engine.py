"""The funnel engine: runs a contact's steps until the next wait, a reply or the end.

It knows the steps and nothing about SQL or channels: what a step *does* outside the enrollment
(send a message, tag the contact, hand off, hand out a coupon) goes through `FunnelPorts`, which
the database runner implements for real and the simulator implements on a virtual clock. So
`nudge simulate` shows exactly what the running engine would do.

Rules worth knowing (documented in docs/funnels.md):
- A step that fell due more than the funnel's `max_delay` ago (Nudge was down) is not run: the
  enrollment ends as `expired` with the reason.
- Contacts inside a funnel continue at their step id after the file changes; if that step was
  removed, they continue where it used to lead (`resume_step_id`), with a log line.
- At most `MAX_STEPS_PER_RUN` steps run back to back: a loop with no wait ends as `failed`
  (the linter refuses such funnels; this protects against an edit that slipped through).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.funnel.answers import classify_answer
from bot.funnel.conditions import ConditionError, Expression
from bot.funnel.model import (
    CouponStep,
    EndStep,
    Funnel,
    GotoStep,
    HandoffStep,
    IfStep,
    SendStep,
    SetStep,
    SplitStep,
    SplitVariant,
    Step,
    SurveyStep,
    TagStep,
    UntagStep,
    WaitForReplyStep,
    WaitStep,
)
from bot.funnel.timing import wait_until
from bot.rendering import RenderError

MAX_STEPS_PER_RUN = 100


@dataclass(frozen=True, slots=True)
class Sent:
    """The message is queued (it will end sent, failed or suppressed in the outbox)."""


@dataclass(frozen=True, slots=True)
class Delayed:
    """Not now (quiet hours, frequency cap): run the same step again at `until`."""

    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Stop:
    """The contact cannot be reached by this funnel (opted out, blocked): exit with `reason`."""

    reason: str


SendVerdict = Sent | Delayed | Stop


@dataclass(frozen=True, slots=True)
class Reply:
    """What the contact answered: typed `text`, or the `reply:` value of a pressed button."""

    text: str
    button: str | None = None
    language: str | None = None


class FunnelPorts(Protocol):
    """Everything a step does outside the enrollment row."""

    async def context(self, enrollment: Enrollment, funnel: Funnel) -> dict[str, Any]:
        """Template and condition variables: contact, name, event, vars, funnel, coupon, reply."""
        ...

    def timezone(self, enrollment: Enrollment, funnel: Funnel) -> str:
        """The contact's time zone, else the funnel's, else the configured default."""
        ...

    async def send(
        self,
        enrollment: Enrollment,
        funnel: Funnel,
        step: SendStep,
        context: Mapping[str, Any],
        at: datetime,
    ) -> SendVerdict: ...

    async def set_tags(
        self, enrollment: Enrollment, tags: tuple[str, ...], add: bool, at: datetime
    ) -> None: ...

    async def handoff(self, enrollment: Enrollment, step: HandoffStep, at: datetime) -> None: ...

    async def survey(self, enrollment: Enrollment, step: SurveyStep, at: datetime) -> None: ...

    async def coupon(self, enrollment: Enrollment, pool: str, at: datetime) -> str | None:
        """A code from `pool` for this contact (the same one on a second call), or None."""
        ...

    def trace(
        self,
        enrollment: Enrollment,
        step_id: str | None,
        message: str,
        at: datetime,
        until: datetime | None = None,
    ) -> None:
        """A line of the enrollment's story (the simulator prints it; the runner logs it);
        `until` completes a message like "waits until" (shown in the contact's time zone)."""
        ...


class FunnelEngine:
    def __init__(self, ports: FunnelPorts) -> None:
        self._ports = ports

    # -- what moves an enrollment ---------------------------------------------------------------

    async def on_due(self, funnel: Funnel, enrollment: Enrollment, now: datetime) -> Enrollment:
        """Its `due_at` has come: run the step, or take a wait_for_reply's timeout branch."""
        if not enrollment.status.is_open:
            return enrollment
        due = enrollment.due_at or now
        if enrollment.status is EnrollmentStatus.WAITING_REPLY:
            step = funnel.step(enrollment.step_id or "")
            target = step.on_timeout if isinstance(step, WaitForReplyStep) else None
            self._ports.trace(enrollment, enrollment.step_id, "no reply in time", now)
            moved = self._goto(funnel, enrollment, target, now)
            return await self.run(funnel, moved, now, due_since=due)
        return await self.run(funnel, enrollment, now, due_since=due)

    async def on_reply(
        self, funnel: Funnel, enrollment: Enrollment, reply: Reply, now: datetime
    ) -> Enrollment:
        """The contact answered while waiting for a reply: take the matching answer branch."""
        if enrollment.status is not EnrollmentStatus.WAITING_REPLY:
            return enrollment
        step = funnel.step(enrollment.step_id or "")
        answer = classify_answer(reply.button or reply.text, reply.language)
        enrollment.variables["reply"] = {"text": reply.text, "answer": answer}
        target = None
        if isinstance(step, WaitForReplyStep):
            target = step.answers.get(answer) or step.answers.get("other")
        self._ports.trace(enrollment, enrollment.step_id, f"reply {reply.text!r}: {answer}", now)
        return await self.run(funnel, self._goto(funnel, enrollment, target, now), now)

    def snooze(self, enrollment: Enrollment, delay: timedelta, now: datetime) -> Enrollment:
        """ "Not now": the next step waits `delay` longer (counted from now at the earliest)."""
        if enrollment.status is EnrollmentStatus.RUNNING:
            enrollment.due_at = max(enrollment.due_at or now, now) + delay
            enrollment.updated_at = now
            self._ports.trace(enrollment, enrollment.step_id, f"snoozed {_duration(delay)}", now)
        return enrollment

    def exit(self, enrollment: Enrollment, reason: str, now: datetime) -> Enrollment:
        """An exit condition came true (goal event, reply, button, hand-off, opt-out)."""
        if not enrollment.status.is_open:
            return enrollment
        return self._end(enrollment, EnrollmentStatus.EXITED, reason, now)

    # -- running steps ----------------------------------------------------------------------

    async def run(
        self,
        funnel: Funnel,
        enrollment: Enrollment,
        now: datetime,
        due_since: datetime | None = None,
    ) -> Enrollment:
        """Run steps from the current one until one waits or the funnel ends.

        `due_since` is when the current step fell due: a message more than `max_delay` late
        (Nudge was down) is not sent but expires, and the contact moves on.
        """
        clock = _RunClock(due_since or now)
        for _ in range(MAX_STEPS_PER_RUN):
            if enrollment.status is not EnrollmentStatus.RUNNING:
                return enrollment
            if enrollment.step_id is None:
                return self._end(enrollment, EnrollmentStatus.COMPLETED, "finished", now)
            step = funnel.step(enrollment.step_id)
            if step is None:
                enrollment = self._removed(enrollment, now)
                continue
            try:
                enrollment, paused = await self._step(funnel, enrollment, step, now, clock)
            except (ConditionError, RenderError) as exc:
                # A broken template or condition must not block the queue: the enrollment ends
                # as failed with the reason, and the marketer sees it in the reports and logs.
                reason = f"step {step.id}: {exc}"
                return self._end(enrollment, EnrollmentStatus.FAILED, reason, now)
            if paused:
                return enrollment
        reason = f"more than {MAX_STEPS_PER_RUN} steps without a wait (a loop?)"
        return self._end(enrollment, EnrollmentStatus.FAILED, reason, now)

    async def _step(
        self, funnel: Funnel, enrollment: Enrollment, step: Step, now: datetime, clock: _RunClock
    ) -> tuple[Enrollment, bool]:
        """Run one step; returns the enrollment and whether it now waits."""
        trace = self._ports.trace
        if isinstance(step, SendStep):
            late = now - clock.due_since
            if late > funnel.max_delay:
                trace(enrollment, step.id, f"expired: {_duration(late)} late, more than "
                      f"max_delay {_duration(funnel.max_delay)}; not sent", now)  # fmt: skip
                clock.due_since = now
                return self._goto(funnel, enrollment, None, now), False
            context = await self._ports.context(enrollment, funnel)
            verdict = await self._ports.send(enrollment, funnel, step, context, now)
            if isinstance(verdict, Delayed):
                # Held back on purpose (quiet hours, the cap): it is due at `until`, and only
                # lateness past that (an outage) counts against max_delay.
                trace(enrollment, step.id, f"delayed ({verdict.reason}) until", now, verdict.until)
                return self._wait(enrollment, step.id, verdict.until, now), True
            if isinstance(verdict, Stop):
                return self._end(enrollment, EnrollmentStatus.EXITED, verdict.reason, now), True
            clock.due_since = now
            trace(enrollment, step.id, f"sent {step.template}", now)
        elif isinstance(step, WaitStep):
            zone = self._ports.timezone(enrollment, funnel)
            until = wait_until(step, now, zone)
            trace(enrollment, step.id, "waits until", now, until)
            following = funnel.next_id(step.id)
            return self._wait(enrollment, following, until, now, funnel), True
        elif isinstance(step, WaitForReplyStep):
            enrollment.status = EnrollmentStatus.WAITING_REPLY
            enrollment.waiting_since = now
            enrollment.due_at = now + step.timeout
            enrollment.updated_at = now
            trace(enrollment, step.id, f"waits up to {_duration(step.timeout)} for a reply", now)
            return enrollment, True
        else:
            target = await self._act(funnel, enrollment, step, now)
            if isinstance(step, EndStep):
                return self._end(
                    enrollment, EnrollmentStatus.COMPLETED, f"end at {step.id}", now
                ), True
            if target is not _FALL_THROUGH:
                return self._goto(funnel, enrollment, target, now, explicit=True), False
        return self._goto(funnel, enrollment, None, now), False

    async def _act(
        self, funnel: Funnel, enrollment: Enrollment, step: Step, now: datetime
    ) -> str | object | None:
        """Steps that act and move on; returns where to go (or `_FALL_THROUGH`)."""
        ports, trace = self._ports, self._ports.trace
        if isinstance(step, IfStep):
            holds = step.condition.evaluate(await ports.context(enrollment, funnel))
            trace(enrollment, step.id, f"`{step.condition.text}` is {str(holds).lower()}", now)
            if holds:
                return step.then
            return step.else_ if step.else_ else _FALL_THROUGH
        if isinstance(step, (TagStep, UntagStep)):
            add = isinstance(step, TagStep)
            await ports.set_tags(enrollment, step.tags, add, now)
            trace(
                enrollment,
                step.id,
                f"{'tagged' if add else 'untagged'} {', '.join(step.tags)}",
                now,
            )
        elif isinstance(step, SetStep):
            context = await ports.context(enrollment, funnel)
            for name, value in step.values.items():
                enrollment.variables.setdefault("vars", {})[name] = (
                    value.evaluate(context) if isinstance(value, Expression) else value
                )
            trace(enrollment, step.id, f"set {', '.join(step.values)}", now)
        elif isinstance(step, HandoffStep):
            await ports.handoff(enrollment, step, now)
            trace(enrollment, step.id, "handed off to a person", now)
        elif isinstance(step, SurveyStep):
            await ports.survey(enrollment, step, now)
            trace(enrollment, step.id, f"survey {step.survey}", now)
        elif isinstance(step, CouponStep):
            code = await ports.coupon(enrollment, step.pool, now)
            if code is None:
                trace(enrollment, step.id, f"coupon pool {step.pool} is empty", now)
                return step.on_empty if step.on_empty else _POOL_EMPTY
            enrollment.variables["coupon"] = {"code": code, "pool": step.pool}
            trace(enrollment, step.id, f"coupon {code} from {step.pool}", now)
        elif isinstance(step, GotoStep):
            return step.target
        elif isinstance(step, SplitStep):
            variant = choose_variant(funnel.id, step, enrollment)
            enrollment.variant = variant.name
            trace(enrollment, step.id, f"A/B variant {variant.name}", now)
            return variant.goto
        return _FALL_THROUGH

    # -- state changes ------------------------------------------------------------------------

    def _goto(
        self,
        funnel: Funnel,
        enrollment: Enrollment,
        target: str | object | None,
        now: datetime,
        *,
        explicit: bool = False,
    ) -> Enrollment:
        """Move to `target`, or on from the current step when no target is given."""
        if target is _POOL_EMPTY:
            return self._end(enrollment, EnrollmentStatus.COMPLETED, "coupon pool empty", now)
        current = enrollment.step_id or ""
        following = target if isinstance(target, str) else funnel.next_id(current)
        enrollment.status = EnrollmentStatus.RUNNING
        enrollment.step_id = following
        enrollment.resume_step_id = funnel.next_id(following) if following else None
        enrollment.due_at = now
        enrollment.waiting_since = None
        enrollment.updated_at = now
        return enrollment

    def _wait(
        self,
        enrollment: Enrollment,
        step_id: str | None,
        until: datetime,
        now: datetime,
        funnel: Funnel | None = None,
    ) -> Enrollment:
        enrollment.status = EnrollmentStatus.RUNNING
        if funnel is not None:
            enrollment.resume_step_id = funnel.next_id(step_id) if step_id else None
        enrollment.step_id = step_id
        enrollment.due_at = until
        enrollment.updated_at = now
        return enrollment

    def _removed(self, enrollment: Enrollment, now: datetime) -> Enrollment:
        """The current step is no longer in the file: continue where it used to lead."""
        gone = enrollment.step_id
        self._ports.trace(
            enrollment, gone, f"step {gone} was removed from the funnel: skipped", now
        )
        enrollment.step_id, enrollment.resume_step_id = enrollment.resume_step_id, None
        return enrollment

    def _end(
        self, enrollment: Enrollment, status: EnrollmentStatus, reason: str, now: datetime
    ) -> Enrollment:
        enrollment.status = status
        enrollment.end_reason = reason
        enrollment.ended_at = now
        enrollment.due_at = None
        enrollment.updated_at = now
        self._ports.trace(enrollment, enrollment.step_id, f"{status.value}: {reason}", now)
        return enrollment


@dataclass(slots=True)
class _RunClock:
    """When the step about to run fell due (one per `run`, so concurrent runs never share it)."""

    due_since: datetime


_FALL_THROUGH = object()
_POOL_EMPTY = object()


def choose_variant(funnel_id: str, step: SplitStep, enrollment: Enrollment) -> SplitVariant:
    """The contact's A/B variant: the stored one, else one picked by weight from a hash of the
    funnel, the step and the contact (the same contact always gets the same variant)."""
    for variant in step.variants:
        if variant.name == enrollment.variant:
            return variant
    total = sum(variant.weight for variant in step.variants)
    seed = f"{funnel_id}:{step.id}:{enrollment.contact_id}".encode()
    point = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % max(total, 1)
    for variant in step.variants:
        if point < variant.weight:
            return variant
        point -= variant.weight
    return step.variants[-1]


def _duration(delta: Any) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return "".join(parts) or f"{seconds}s"


def new_enrollment(
    funnel: Funnel, contact_id: int, event: Mapping[str, Any], now: datetime
) -> Enrollment:
    """A contact entering `funnel` now, at its first step."""
    first = funnel.first_step
    return Enrollment(
        id=0,
        funnel_id=funnel.id,
        contact_id=contact_id,
        status=EnrollmentStatus.RUNNING,
        step_id=first.id if first else None,
        resume_step_id=funnel.next_id(first.id) if first else None,
        due_at=now,
        entered_at=now,
        updated_at=now,
        event=dict(event),
    )
