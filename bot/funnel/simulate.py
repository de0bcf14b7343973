"""`nudge simulate`: a funnel's timeline for one contact on a virtual clock.

The real engine runs with in-memory ports: nothing touches the database or a channel. The
output says when each step fires (in the contact's time zone), what is sent (rendered), and why
a step was skipped or delayed (quiet hours, the frequency cap, an exit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.funnel.conditions import ConditionError
from bot.funnel.context import (
    ContactView,
    button_label,
    exit_reason,
    funnel_context,
    render_button_url,
    timezone_for,
)
from bot.funnel.durations import DurationError, parse_duration
from bot.funnel.engine import Delayed, FunnelEngine, Reply, SendVerdict, Sent, Stop, new_enrollment
from bot.funnel.gate import cap_until, quiet_until
from bot.funnel.model import EventTrigger, FrequencyCap, Funnel, HandoffStep, SendStep, SurveyStep
from bot.rendering import Renderer, RenderError

_INPUT = re.compile(r"^(?P<what>[^@]+)@(?P<offset>\d[\dwdhms]*)$")


class SimulationError(ValueError):
    """A bad --events item or contact file, with a sentence saying what is wrong."""


@dataclass(frozen=True, slots=True)
class Input:
    """Something the contact or the shop does at `offset` after the start."""

    offset: timedelta
    kind: str  # "event", "reply" or "button"
    value: str

    @classmethod
    def parse_list(cls, text: str) -> list[Input]:
        """`cart_abandoned@0,reply:yes@2h,button:not_now@1d,order_paid@26h`."""
        items = [part.strip() for part in text.split(",") if part.strip()]
        return sorted((cls.parse(item) for item in items), key=lambda i: i.offset)

    @classmethod
    def parse(cls, item: str) -> Input:
        found = _INPUT.match(item)
        if found is None:
            raise SimulationError(f"{item!r}: write NAME@OFFSET, like order_paid@26h")
        raw = found["offset"]
        try:
            offset = timedelta(0) if raw == "0" else parse_duration(raw)
        except DurationError as exc:
            raise SimulationError(f"{item!r}: {exc}") from exc
        what = found["what"].strip()
        kind, _, value = what.partition(":")
        if kind in ("reply", "button") and value:
            return cls(offset, kind, value)
        return cls(offset, "event", what)


@dataclass(slots=True)
class Line:
    at: datetime
    step_id: str | None
    text: str
    detail: list[str] = field(default_factory=list)


@dataclass
class SimulatedPorts:
    """The engine's ports on a virtual clock: sends are rendered and recorded, not sent."""

    renderer: Renderer
    contact: ContactView
    default_timezone: str
    default_language: str
    cap: FrequencyCap | None
    lines: list[Line] = field(default_factory=list)
    sent_times: list[datetime] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    coupons: int = 0
    zone_override: str | None = None  # the funnel's time zone, for contacts without one

    async def context(self, enrollment: Enrollment, funnel: Funnel) -> dict[str, Any]:
        view = ContactView(**{**_fields(self.contact), "tags": tuple(sorted(self.tags))})
        return funnel_context(view, funnel, enrollment)

    def timezone(self, enrollment: Enrollment, funnel: Funnel) -> str:
        return timezone_for(self.contact, funnel, self.default_timezone)

    async def send(
        self,
        enrollment: Enrollment,
        funnel: Funnel,
        step: SendStep,
        context: Mapping[str, Any],
        at: datetime,
    ) -> SendVerdict:
        if self.contact.blocked:
            return Stop("the contact blocked the bot")
        if funnel.marketing and self.contact.opted_out:
            return Stop("opted out of marketing messages")
        fallback = funnel.timezone or self.default_timezone
        quiet = quiet_until(funnel.quiet_hours, at, self.contact.timezone, fallback)
        if quiet is not None:
            return Delayed(quiet, "quiet hours")
        if funnel.marketing:
            capped = cap_until(self.sent_times, self.cap, at)
            if capped is not None:
                assert self.cap is not None
                return Delayed(capped, f"frequency cap ({self.cap.messages} per {self.cap.per})")
            self.sent_times.append(at)
        language = self.contact.language
        text = self.renderer.render(step.template, language, context)
        detail = [f"    {line}" for line in text.splitlines()]
        for button in step.buttons:
            label = button_label(button, language, self.default_language)
            target = (
                render_button_url(self.renderer, button, context)
                if button.url
                else f"reply {button.reply}"
                if button.reply
                else f"snooze {button.snooze}"
            )
            detail.append(f"    [{label}] -> {target}")
        self.lines.append(Line(at, step.id, f"send {step.template}", detail))
        return Sent()

    async def set_tags(
        self, enrollment: Enrollment, tags: tuple[str, ...], add: bool, at: datetime
    ) -> None:
        if add:
            self.tags.update(tags)
        else:
            self.tags.difference_update(tags)

    async def handoff(self, enrollment: Enrollment, step: HandoffStep, at: datetime) -> None:
        return None  # the trace line says it; nobody is paged in a simulation

    async def survey(self, enrollment: Enrollment, step: SurveyStep, at: datetime) -> None:
        return None

    async def coupon(self, enrollment: Enrollment, pool: str, at: datetime) -> str | None:
        existing = enrollment.variables.get("coupon")
        if isinstance(existing, dict) and existing.get("pool") == pool:
            return str(existing["code"])
        self.coupons += 1
        return f"{pool.upper()}-SIM{self.coupons:03d}"

    def trace(
        self,
        enrollment: Enrollment,
        step_id: str | None,
        message: str,
        at: datetime,
        until: datetime | None = None,
    ) -> None:
        if message.startswith("sent "):  # the send itself is its own line, with the text
            return
        if until is not None:
            zone = ZoneInfo(self._zone)
            message = f"{message} {until.astimezone(zone):%a %Y-%m-%d %H:%M}"
        self.lines.append(Line(at, step_id, message))

    @property
    def _zone(self) -> str:
        return self.contact.timezone or self.zone_override or self.default_timezone


def _fields(contact: ContactView) -> dict[str, Any]:
    return {name: getattr(contact, name) for name in ContactView.__slots__}


async def simulate(
    funnel: Funnel,
    contact: ContactView,
    inputs: Sequence[Input],
    ports: SimulatedPorts,
    start: datetime,
    event_data: Mapping[str, Mapping[str, Any]],
    horizon: timedelta = timedelta(days=60),
) -> list[Line]:
    """Run `funnel` for `contact` from `start`; returns the timeline."""
    engine = FunnelEngine(ports)
    enrollment: Enrollment | None = None
    pending = list(inputs)
    now = start
    if not isinstance(funnel.trigger, EventTrigger):  # keyword, tag, stalled, api: enter now
        enrollment = await _enter(engine, funnel, contact, {}, ports, now)
    while now <= start + horizon:
        moments = [start + i.offset for i in pending]
        if enrollment is not None and enrollment.status.is_open and enrollment.due_at:
            moments.append(enrollment.due_at)
        if not moments:
            break
        now = max(now, min(moments))
        while pending and start + pending[0].offset <= now:
            item = pending.pop(0)
            enrollment = await _apply(engine, funnel, contact, enrollment, item, ports, now,
                                      event_data)  # fmt: skip
        due = enrollment.due_at if enrollment is not None else None
        if enrollment is not None and enrollment.status.is_open and due and due <= now:
            enrollment = await engine.on_due(funnel, enrollment, now)
    return ports.lines


async def _enter(
    engine: FunnelEngine,
    funnel: Funnel,
    contact: ContactView,
    data: Mapping[str, Any],
    ports: SimulatedPorts,
    now: datetime,
) -> Enrollment:
    enrollment = new_enrollment(funnel, contact.id, data, now)
    ports.lines.append(Line(now, None, f"entered {funnel.id}"))
    if funnel.audience is not None:
        context = await ports.context(enrollment, funnel)
        if not funnel.audience.evaluate(context):
            enrollment.status = EnrollmentStatus.EXITED
            ports.lines.append(Line(now, None, f"not in the audience: {funnel.audience.text}"))
            return enrollment
    return await engine.run(funnel, enrollment, now)


async def _apply(
    engine: FunnelEngine,
    funnel: Funnel,
    contact: ContactView,
    enrollment: Enrollment | None,
    item: Input,
    ports: SimulatedPorts,
    now: datetime,
    event_data: Mapping[str, Mapping[str, Any]],
) -> Enrollment | None:
    if item.kind == "event":
        data = dict(event_data.get(item.value, {}))
        trigger = funnel.trigger
        starts = isinstance(trigger, EventTrigger) and trigger.name == item.value
        if (
            enrollment is None
            and isinstance(trigger, EventTrigger)
            and starts
            and _where_holds(trigger, data)
        ):
            return await _enter(engine, funnel, contact, data, ports, now)
        ports.lines.append(Line(now, None, f"event {item.value}"))
        reason = exit_reason(funnel, "event", item.value)
        if enrollment is not None and reason:
            return engine.exit(enrollment, reason, now)
        return enrollment
    if enrollment is None:
        ports.lines.append(Line(now, None, f"{item.kind} {item.value!r} (not in the funnel)"))
        return None
    ports.lines.append(Line(now, enrollment.step_id, f"contact {item.kind}: {item.value}"))
    return await _respond(engine, funnel, enrollment, item, now, contact.language)


async def _respond(
    engine: FunnelEngine,
    funnel: Funnel,
    enrollment: Enrollment,
    item: Input,
    now: datetime,
    language: str | None,
) -> Enrollment:
    if item.kind == "button":
        snooze = _snooze_of(funnel, item.value)
        if snooze is not None:
            return engine.snooze(enrollment, snooze, now)
        reason = exit_reason(funnel, "button", item.value)
        if reason and enrollment.status is not EnrollmentStatus.WAITING_REPLY:
            return engine.exit(enrollment, reason, now)
    if enrollment.status is EnrollmentStatus.WAITING_REPLY:
        button = item.value if item.kind == "button" else None
        return await engine.on_reply(funnel, enrollment, Reply(item.value, button, language), now)
    reason = exit_reason(funnel, "replied")
    return engine.exit(enrollment, reason, now) if reason else enrollment


def _snooze_of(funnel: Funnel, value: str) -> timedelta | None:
    """A "not now" button is pressed by its label key `snooze` or by its duration."""
    for step in funnel.steps:
        if isinstance(step, SendStep):
            for button in step.buttons:
                if button.snooze is not None and value in ("snooze", "not_now", str(button.snooze)):
                    return button.snooze
    return None


def _where_holds(trigger: EventTrigger, data: Mapping[str, Any]) -> bool:
    if trigger.where is None:
        return True
    try:
        return trigger.where.evaluate({**data, "event": dict(data)})
    except ConditionError:
        return False


def format_timeline(lines: Sequence[Line], timezone: str, start: datetime) -> str:
    zone = ZoneInfo(timezone)
    out = []
    for line in lines:
        local = line.at.astimezone(zone)
        since = _since(line.at - start)
        step = f"[{line.step_id}] " if line.step_id else ""
        out.append(f"{local:%a %Y-%m-%d %H:%M} {timezone} (+{since})  {step}{line.text}")
        out.extend(line.detail)
    return "\n".join(out)


def _since(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d{hours:02d}h{minutes:02d}m" if days else f"{hours}h{minutes:02d}m"


__all__ = [
    "Input",
    "Line",
    "RenderError",
    "SimulatedPorts",
    "SimulationError",
    "format_timeline",
    "simulate",
]
