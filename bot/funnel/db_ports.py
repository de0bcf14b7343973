"""The engine's ports on the database: what a funnel step does for real, in one transaction.

Sending is re-checked here, at send time: the contact blocked the bot or opted out (marketing
funnels), a person holds the chat (funnels pause), quiet hours, the frequency cap. A message
that passes becomes an outbox row whose key is derived from the enrollment, the step and the
enrollment's version: a batch retried after a crash stores nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.delivery.outbox import Outbox
from bot.domain.funnel import Enrollment
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.domain.handoff import HandoffReason
from bot.domain.model import (
    Button,
    Channel,
    Contact,
    ConversationStatus,
    OutboundDraft,
    OutboundKind,
)
from bot.domain.surveys import SurveyStatus
from bot.funnel.contact_reads import ContactReads
from bot.funnel.context import ContactView, funnel_context, render_button_url
from bot.funnel.engine import Delayed, SendVerdict, Sent, Stop
from bot.funnel.gate import cap_until, quiet_until
from bot.funnel.model import FrequencyCap, Funnel, HandoffStep, SendStep, SurveyStep
from bot.rendering import Renderer

log = logging.getLogger(__name__)

BUTTON_PREFIX = "fn:"  # fn:<enrollment id>:<reply value | snooze>
PERSON_RECHECK = timedelta(minutes=10)  # how often a paused funnel looks again
_CHANNEL_ORDER = (Channel.TELEGRAM, Channel.WEBCHAT)


class TagListener(Protocol):
    async def __call__(self, uow: Any, contact_id: int, tag: str, at: datetime) -> None: ...


class HandoffRequester(Protocol):
    async def request(
        self,
        uow: Any,
        conversation_id: int,
        reason: HandoffReason,
        *,
        summary: str | None = None,
        language: str | None = None,
        notice_key: str | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class FunnelRules:
    """What every funnel shares, from config."""

    default_timezone: str
    default_language: str
    cap: FrequencyCap | None


def contact_view(contact: Contact) -> ContactView:
    tags = contact.attributes.get("tags", [])
    return ContactView(
        id=contact.id,
        display_name=contact.display_name,
        language=contact.language,
        timezone=contact.timezone,
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        attributes=contact.attributes,
        opted_out=contact.opted_out,
        blocked=contact.blocked,
    )


class DatabasePorts:
    """`FunnelPorts` bound to one unit of work (the runner makes one per batch)."""

    def __init__(
        self,
        uow: Any,
        renderer: Renderer,
        outbox: Outbox,
        rules: FunnelRules,
        handoff: HandoffRequester | None,
        tag_added: TagListener | None = None,
        surveys: Any = None,
    ) -> None:
        self._uow = uow
        self._surveys = surveys
        self._tag_added = tag_added
        self._renderer = renderer
        self._outbox = outbox
        self._rules = rules
        self._handoff = handoff
        self._reads = ContactReads(uow, rules.cap.per if rules.cap is not None else None)
        self.log: list[FunnelLogEntry] = []
        # The messages of `send`, stored together by `store_sends` (one statement for a batch).
        self._sends: list[tuple[OutboundDraft, datetime]] = []

    async def preload(self, contact_ids: Iterable[int], now: datetime) -> None:
        """Read what a batch's steps need about their contacts, one query per kind."""
        await self._reads.preload(contact_ids, now)

    async def contact(self, contact_id: int) -> Contact | None:
        return await self._reads.contact(contact_id)

    async def context(self, enrollment: Enrollment, funnel: Funnel) -> dict[str, Any]:
        contact = await self.contact(enrollment.contact_id)
        view = contact_view(contact) if contact else ContactView(enrollment.contact_id, "")
        return funnel_context(view, funnel, enrollment)

    def timezone(self, enrollment: Enrollment, funnel: Funnel) -> str:
        contact = self._reads.known_contact(enrollment.contact_id)
        zone = contact.timezone if contact else None
        return zone or funnel.timezone or self._rules.default_timezone

    async def send(
        self,
        enrollment: Enrollment,
        funnel: Funnel,
        step: SendStep,
        context: Mapping[str, Any],
        at: datetime,
    ) -> SendVerdict:
        contact = await self.contact(enrollment.contact_id)
        if contact is None:
            return Stop("the contact no longer exists")
        hold = await self._screen(contact, funnel, at)
        if hold is not None:
            if isinstance(hold, Delayed):
                self._note(enrollment, FunnelLogKind.DELAYED, at, hold.reason)
            return hold
        identity = await self._reachable_identity(contact.id)
        if identity is None:
            return Stop("no channel reaches the contact")
        text = self._renderer.render(step.template, contact.language, context)
        draft = OutboundDraft(
            key=f"funnel:{enrollment.id}:{step.id}:{enrollment.version}",
            contact_id=contact.id,
            channel=identity.channel,
            address=identity.address,
            text=text,
            kind=OutboundKind.FUNNEL if funnel.marketing else OutboundKind.SYSTEM,
            conversation_id=await self._conversation_id(contact.id),
            buttons=self._buttons(enrollment, step, contact, context),
            enrollment_id=enrollment.id,
            step_id=step.id,
        )
        self._sends.append((draft, at))
        kind = FunnelLogKind.SENT if funnel.marketing else FunnelLogKind.NOTIFIED
        self._note(enrollment, kind, at, step.template, step.id)
        return Sent()

    async def store_sends(self) -> None:
        """Store the messages `send` accepted so far as outbox rows, in the order they were
        sent. The runner calls it once per batch, before the batch's enrollments are saved;
        a caller that does not save its enrollments does not call it, and nothing goes out."""
        sends, self._sends = self._sends, []
        await self._outbox.enqueue_many(self._uow, sends)

    async def _screen(
        self, contact: Contact, funnel: Funnel, at: datetime
    ) -> Stop | Delayed | None:
        if contact.blocked:
            return Stop("the contact blocked the bot")
        if funnel.marketing and contact.opted_out:
            return Stop("opted out of marketing messages")
        conversation = await self._open_conversation(contact.id)
        waiting = (ConversationStatus.WAITING_FOR_AGENT, ConversationStatus.WITH_AGENT)
        if conversation is not None and conversation.status in waiting:
            return Delayed(at + PERSON_RECHECK, "a person holds the chat")
        fallback = funnel.timezone or self._rules.default_timezone
        quiet = quiet_until(funnel.quiet_hours, at, contact.timezone, fallback)
        if quiet is not None:
            return Delayed(quiet, "quiet hours")
        cap = self._rules.cap
        if funnel.marketing and cap is not None:
            sent = await self._reads.sent_times(contact.id, at - cap.per)
            # This batch's own sends are not stored yet: count them too.
            sent += [
                e.at
                for e in self.log
                if e.contact_id == contact.id and e.kind is FunnelLogKind.SENT
            ]
            held_until = cap_until(sent, cap, at)
            if held_until is not None:
                return Delayed(held_until, f"frequency cap ({cap.messages} per {cap.per})")
        return None

    async def _reachable_identity(self, contact_id: int) -> Any:
        identities = [i for i in await self._reads.identities(contact_id) if not i.blocked]
        identities.sort(key=lambda i: _CHANNEL_ORDER.index(i.channel))
        return identities[0] if identities else None

    async def _open_conversation(self, contact_id: int) -> Any:
        return await self._reads.open_conversation(contact_id)

    async def _conversation_id(self, contact_id: int) -> int | None:
        conversation = await self._open_conversation(contact_id)
        return conversation.id if conversation is not None else None

    def _buttons(
        self,
        enrollment: Enrollment,
        step: SendStep,
        contact: Contact,
        context: Mapping[str, Any],
    ) -> list[list[Button]]:
        rows: list[list[Button]] = []
        for button in step.buttons:
            label = button.text_for(contact.language, self._rules.default_language)
            if button.url is not None:
                rows.append([Button(label, url=render_button_url(self._renderer, button, context))])
            else:
                value = button.reply if button.reply is not None else "snooze"
                data = f"{BUTTON_PREFIX}{enrollment.id}:{step.id}:{value}"[:64]
                rows.append([Button(label, callback_data=data)])
        return rows

    async def set_tags(
        self, enrollment: Enrollment, tags: tuple[str, ...], add: bool, at: datetime
    ) -> None:
        contact = await self.contact(enrollment.contact_id)
        if contact is None:
            return
        current = [str(t) for t in contact.attributes.get("tags", []) or []]
        wanted = (
            [*current, *(t for t in tags if t not in current)]
            if add
            else [t for t in current if t not in tags]
        )
        if wanted != current:
            contact.attributes = {**contact.attributes, "tags": wanted}
            await self._uow.contacts.update(contact)
        if add and self._tag_added is not None:
            for tag in (t for t in tags if t not in current):
                await self._tag_added(self._uow, contact.id, tag, at)

    async def handoff(self, enrollment: Enrollment, step: HandoffStep, at: datetime) -> None:
        await self.store_sends()  # the hand-off's notice must follow the messages sent before it
        if self._handoff is None:
            self._note(enrollment, FunnelLogKind.SKIPPED, at, "hand-off is switched off")
            return
        conversation_id = await self._conversation_id(enrollment.contact_id)
        if conversation_id is None:
            contact = await self.contact(enrollment.contact_id)
            identity = await self._reachable_identity(enrollment.contact_id)
            if contact is None or identity is None:
                return
            created = await self._uow.conversations.create(contact.id, identity.channel, at)
            self._reads.conversation_opened(contact.id, created)
            conversation_id = created.id
        summary = step.summary or f"from the funnel {enrollment.funnel_id}"
        await self._handoff.request(
            self._uow, conversation_id, HandoffReason.FUNNEL, summary=summary,
            notice_key=f"funnel:{enrollment.id}:{step.id}:{enrollment.version}",
        )  # fmt: skip
        # The conversation now waits for a person: a later step in this batch must see that.
        self._reads.conversation_changed(enrollment.contact_id)

    async def survey(self, enrollment: Enrollment, step: SurveyStep, at: datetime) -> None:
        await self.store_sends()  # the survey must follow the messages sent before it
        if self._surveys is None:
            self._note(enrollment, FunnelLogKind.SKIPPED, at, f"survey {step.survey}: surveys off")
            return
        response = await self._surveys.send_from_funnel(
            self._uow, step.survey, enrollment.contact_id, enrollment, at, step_id=step.id
        )
        if response is not None and response.status is SurveyStatus.SENT:
            self._note(enrollment, FunnelLogKind.NOTIFIED, at, f"survey {step.survey}", step.id)
        else:
            why = response.reason if response is not None else "unknown or already sent"
            self._note(enrollment, FunnelLogKind.SKIPPED, at, f"survey {step.survey}: {why}")

    async def coupon(self, enrollment: Enrollment, pool: str, at: datetime) -> str | None:
        code: str | None = await self._uow.coupons.assign(pool, enrollment.contact_id, at)
        return code

    def trace(
        self,
        enrollment: Enrollment,
        step_id: str | None,
        message: str,
        at: datetime,
        until: datetime | None = None,
    ) -> None:
        suffix = f" {until.isoformat()}" if until else ""
        log.debug("enrollment %s [%s] %s%s", enrollment.id, step_id, message, suffix)
        if message.startswith("expired:"):  # Nudge was down too long: the reason is kept
            log.info("funnel %s: %s (enrollment %s)", enrollment.funnel_id, message, enrollment.id)
            self._note(enrollment, FunnelLogKind.EXPIRED, at, message, step_id)
        elif message.startswith("step ") and "removed" in message:
            log.info("funnel %s: %s (enrollment %s)", enrollment.funnel_id, message, enrollment.id)
            self._note(enrollment, FunnelLogKind.SKIPPED, at, message, step_id)

    def _note(
        self,
        enrollment: Enrollment,
        kind: FunnelLogKind,
        at: datetime,
        detail: str | None,
        step_id: str | None = None,
    ) -> None:
        self.log.append(FunnelLogEntry.of(enrollment, kind, at, detail, step_id))
