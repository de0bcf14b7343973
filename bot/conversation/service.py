"""The conversation service: one inbound event in, stored messages and outbox rows out.

It is pure of transport and SQL: it works on the unit of work it is given, and its caller
commits. The status of a conversation changes here (and in the modules of this package it
delegates to) and nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.conversation.escalation import Escalation
from bot.conversation.identity import WEB_LINK_PAYLOAD_PREFIX, link_web_visitor, resolve_contact
from bot.conversation.knowledge_replies import KnowledgeResponder
from bot.conversation.language import choose_language
from bot.conversation.shop_link import SHOP_LINK_PAYLOAD_PREFIX, bind_shop_contact
from bot.conversation.turn import Turn
from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.handoff import HandoffReason
from bot.domain.inbound import InboundEvent, InboundKind
from bot.domain.model import (
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    KbDecisionKind,
    Sender,
)
from bot.domain.ports import UnitOfWork
from bot.funnel.hooks import FunnelHooks
from bot.rendering import Renderer
from bot.surveys.service import SurveyService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HandleResult:
    contact_id: int | None
    conversation_id: int | None
    replies: int


class ConversationService:
    def __init__(
        self,
        renderer: Renderer,
        outbox: Outbox,
        clock: Clock,
        *,
        knowledge: KnowledgeResponder | None = None,
        escalation: Escalation | None = None,
        funnels: FunnelHooks | None = None,
        surveys: SurveyService | None = None,
        default_language: str = "en",
    ) -> None:
        self._renderer = renderer
        self._outbox = outbox
        self._clock = clock
        self._knowledge = knowledge
        self._escalation = escalation
        self._funnels = funnels
        self._surveys = surveys
        self._default_language = default_language

    async def handle(self, uow: UnitOfWork, event: InboundEvent) -> HandleResult:
        now = self._clock.now()
        contact, identity = await resolve_contact(uow, event.sender)
        if event.kind in (InboundKind.BLOCKED, InboundKind.UNBLOCKED):
            await self._set_blocked(uow, contact, event.kind is InboundKind.BLOCKED, now)
            return HandleResult(contact.id, None, 0)
        if contact.blocked:  # writing to us again means the customer is reachable again
            contact.blocked = False
            await uow.contacts.update(contact)
        if _is_command(event, "start") and event.command_args.startswith(SHOP_LINK_PAYLOAD_PREFIX):
            code = event.command_args.removeprefix(SHOP_LINK_PAYLOAD_PREFIX)
            bound = await bind_shop_contact(uow, contact, code, now)
            turn = await self._turn(uow, event, bound or contact, identity, now)
            await self._store_inbound(uow, turn)
            turn.say(self._renderer, "shop_linked" if bound else "link_expired")
            return await self._finish(uow, turn)
        if _is_command(event, "start") and event.command_args.startswith(WEB_LINK_PAYLOAD_PREFIX):
            code = event.command_args.removeprefix(WEB_LINK_PAYLOAD_PREFIX)
            linked = await link_web_visitor(uow, contact, code)
            turn = await self._turn(uow, event, linked or contact, identity, now)
            await self._store_inbound(uow, turn)
            turn.say(self._renderer, "linked" if linked else "link_expired")
            return await self._finish(uow, turn)
        turn = await self._turn(uow, event, contact, identity, now)
        await self._store_inbound(uow, turn)
        await self._respond(uow, turn)
        return await self._finish(uow, turn)

    async def _turn(
        self,
        uow: UnitOfWork,
        event: InboundEvent,
        contact: Contact,
        identity: ChannelIdentity,
        now: datetime,
    ) -> Turn:
        conversation = await self._conversation_for(uow, contact, event, now)
        text = event.text if event.kind is InboundKind.TEXT else ""
        language = choose_language(text, contact.language, self._default_language)
        return Turn(event, contact, identity, conversation, now, language)

    async def _conversation_for(
        self, uow: UnitOfWork, contact: Contact, event: InboundEvent, now: datetime
    ) -> Conversation:
        conversation = await uow.conversations.open_for_contact(contact.id)
        if conversation is None:
            return await uow.conversations.create(contact.id, event.sender.channel, now)
        await uow.conversations.touch(conversation.id, event.sender.channel, now)
        conversation.channel = event.sender.channel
        return conversation

    async def _store_inbound(self, uow: UnitOfWork, turn: Turn) -> None:
        event = turn.event
        text = event.text
        if event.kind is InboundKind.BUTTON:
            text = event.text or f"[button] {event.callback_data or ''}"
        await uow.messages.add(
            conversation_id=turn.conversation.id,
            contact_id=turn.contact.id,
            direction=Direction.INBOUND,
            sender=Sender.CUSTOMER,
            channel=event.sender.channel,
            text=text,
            at=turn.at,
            channel_message_id=event.channel_message_id,
        )

    async def _respond(self, uow: UnitOfWork, turn: Turn) -> None:
        event, status = turn.event, turn.conversation.status
        if event.kind is InboundKind.COMMAND and event.command in ("start", "help", "stop"):
            await self._command(uow, turn, event.command)
            return
        if await self._to_surveys(uow, turn):
            return
        escalation = self._escalation
        if escalation is not None and status is not ConversationStatus.BOT:
            await escalation.forward(uow, turn, _shown_text(event))
        if status is ConversationStatus.WITH_AGENT:
            log.debug("conversation %s is with a person: the bot stays quiet", turn.conversation.id)
            return
        reason = escalation.check_text(turn) if escalation is not None else None
        if reason is not None:
            turn.hand_off(reason)
        elif await self._to_funnels(uow, turn):
            return  # a funnel was waiting for this answer, or a keyword started one
        elif event.kind is InboundKind.BUTTON:
            await self._button(uow, turn)
        elif self._knowledge is not None and self._knowledge.available:
            await self._ask_knowledge_base(uow, turn)
        elif status is ConversationStatus.BOT:
            buttons = escalation.person_button(turn) if escalation is not None else None
            turn.say(self._renderer, "fallback", buttons)

    async def _to_surveys(self, uow: UnitOfWork, turn: Turn) -> bool:
        """A survey's score button, or the comment its follow-up question asked for."""
        surveys, event = self._surveys, turn.event
        if surveys is None:
            return False
        if event.kind is InboundKind.BUTTON:
            reply = await surveys.answer(uow, turn.contact, event.callback_data or "", turn.at)
        elif event.kind is InboundKind.TEXT:
            reply = await surveys.comment(uow, turn.contact, event.text, turn.at)
        else:
            return False
        if reply is None:
            return False
        for text in reply.texts:
            turn.add(text)
        return True

    async def _to_funnels(self, uow: UnitOfWork, turn: Turn) -> bool:
        """Give the message to the funnels first; True when one of them took it."""
        funnels, event = self._funnels, turn.event
        if funnels is None:
            return False
        contact_id, language = turn.contact.id, turn.language
        if event.kind is InboundKind.BUTTON:
            data = event.callback_data or ""
            return await funnels.on_button(uow, contact_id, data, language, turn.at)
        text = _shown_text(event)
        return await funnels.on_message(uow, contact_id, text, language, turn.at)

    async def _ask_knowledge_base(self, uow: UnitOfWork, turn: Turn) -> None:
        assert self._knowledge is not None
        decision = await self._knowledge.answer(uow, turn)
        if decision is not KbDecisionKind.NO_ANSWER:
            return
        if turn.conversation.status is not ConversationStatus.BOT:
            return  # already waiting for a person: "I don't know" once is enough
        escalation = self._escalation
        if escalation is None:
            turn.say(self._renderer, "kb_no_answer")
            return
        limit = escalation.failed_answers_limit
        failures = await self._knowledge.consecutive_failures(uow, turn, max(limit, 1))
        if limit > 0 and failures >= limit:
            turn.say(self._renderer, "kb_no_answer")
            turn.hand_off(HandoffReason.BOT_FAILED, turn.event.text[:300])
        else:
            turn.say(self._renderer, "kb_no_answer_offer", escalation.person_button(turn))

    async def _command(self, uow: UnitOfWork, turn: Turn, command: str) -> None:
        contact = turn.contact
        if command == "help":
            turn.say(self._renderer, "help")
            return
        if command == "stop":
            contact.opted_out = True
            await uow.contacts.update(contact)
            await uow.outbox.suppress_pending_for_contact(
                contact.id, "contact opted out of marketing messages", turn.at, marketing_only=True
            )
            if self._funnels is not None:
                await self._funnels.on_opted_out(uow, contact.id, turn.at)
            turn.say(self._renderer, "stopped")
            return
        if turn.event.command_args:
            contact.start_payload = turn.event.command_args[:256]
        was_opted_out = contact.opted_out
        contact.opted_out = False
        await uow.contacts.update(contact)
        turn.say(self._renderer, "resubscribed" if was_opted_out else "greeting")

    async def _button(self, uow: UnitOfWork, turn: Turn) -> None:
        data = turn.event.callback_data or ""
        if self._knowledge is not None and await self._knowledge.on_button(uow, turn, data):
            return
        log.info("button %r in conversation %s has no handler", data, turn.conversation.id)

    def _screen_handoff(self, turn: Turn) -> None:
        """A hand-off the knowledge base asked for, but its trigger is off: offer the button."""
        reason = turn.handoff_reason
        if reason is None:
            return
        escalation = self._escalation
        if escalation is None or not escalation.allows(reason):
            turn.handoff_reason = None
            if escalation is not None:
                turn.say(self._renderer, "kb_no_answer_offer", escalation.person_button(turn))

    async def _set_blocked(
        self, uow: UnitOfWork, contact: Contact, blocked: bool, now: datetime
    ) -> None:
        if contact.blocked != blocked:
            contact.blocked = blocked
            await uow.contacts.update(contact)
        if blocked:
            await uow.outbox.suppress_pending_for_contact(
                contact.id, "contact blocked the bot", now, marketing_only=False
            )
            conversation = await uow.conversations.open_for_contact(contact.id)
            if conversation is not None and self._escalation is not None:
                await self._escalation.customer_left(uow, conversation.id)

    async def _finish(self, uow: UnitOfWork, turn: Turn) -> HandleResult:
        self._screen_handoff(turn)
        for draft in turn.replies:
            await self._outbox.enqueue(uow, draft, turn.at)
        if self._escalation is not None:
            await self._escalation.request_for(uow, turn)
        if turn.handoff_reason is not None and self._funnels is not None:
            await self._funnels.on_handed_off(uow, turn.contact.id, turn.at)
        return HandleResult(turn.contact.id, turn.conversation.id, len(turn.replies))


def _shown_text(event: InboundEvent) -> str:
    """The customer's message as agents see it."""
    if event.kind is InboundKind.BUTTON:
        return event.text or f"[button] {event.callback_data or ''}"
    if event.kind is InboundKind.COMMAND:
        return f"/{event.command} {event.command_args}".strip()
    return event.text


def _is_command(event: InboundEvent, name: str) -> bool:
    return event.kind is InboundKind.COMMAND and event.command == name
