"""The conversation service: one inbound event in, stored messages and outbox rows out.

It is pure of transport and SQL: it works on the unit of work it is given, and its caller
commits. The status of a conversation changes here and nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.conversation.identity import WEB_LINK_PAYLOAD_PREFIX, link_web_visitor, resolve_contact
from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.inbound import InboundEvent, InboundKind
from bot.domain.model import (
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    OutboundDraft,
    OutboundKind,
    Sender,
)
from bot.domain.ports import UnitOfWork
from bot.rendering import Renderer

log = logging.getLogger(__name__)

# A human holds these conversations: the bot answers commands only.
HUMAN_STATUSES = frozenset({ConversationStatus.WAITING_FOR_AGENT, ConversationStatus.WITH_AGENT})


@dataclass(slots=True)
class Turn:
    """Everything one inbound event is handled with, and the replies it produced."""

    event: InboundEvent
    contact: Contact
    identity: ChannelIdentity
    conversation: Conversation
    at: datetime
    replies: list[OutboundDraft] = field(default_factory=list)

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"name": self.contact.display_name, "contact": self.contact, **extra}


@dataclass(frozen=True, slots=True)
class HandleResult:
    contact_id: int | None
    conversation_id: int | None
    replies: int


class ConversationService:
    def __init__(self, renderer: Renderer, outbox: Outbox, clock: Clock) -> None:
        self._renderer = renderer
        self._outbox = outbox
        self._clock = clock

    async def handle(self, uow: UnitOfWork, event: InboundEvent) -> HandleResult:
        now = self._clock.now()
        contact, identity = await resolve_contact(uow, event.sender)
        if event.kind in (InboundKind.BLOCKED, InboundKind.UNBLOCKED):
            await self._set_blocked(uow, contact, event.kind is InboundKind.BLOCKED, now)
            return HandleResult(contact.id, None, 0)
        if contact.blocked:  # writing to us again means the customer is reachable again
            contact.blocked = False
            await uow.contacts.update(contact)
        if _is_command(event, "start") and event.command_args.startswith(WEB_LINK_PAYLOAD_PREFIX):
            return await self._link(uow, event, contact, identity, now)
        conversation = await self._conversation_for(uow, contact, event, now)
        turn = Turn(event, contact, identity, conversation, now)
        await self._store_inbound(uow, turn)
        await self._respond(uow, turn)
        await self._send(uow, turn)
        return HandleResult(contact.id, conversation.id, len(turn.replies))

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
        event, contact = turn.event, turn.contact
        if _is_command(event, "start"):
            await self._start(uow, turn)
        elif _is_command(event, "help"):
            self._reply(turn, "help")
        elif _is_command(event, "stop"):
            contact.opted_out = True
            await uow.contacts.update(contact)
            await uow.outbox.suppress_pending_for_contact(
                contact.id, "contact opted out of marketing messages", turn.at, marketing_only=True
            )
            self._reply(turn, "stopped")
        elif turn.conversation.status in HUMAN_STATUSES:
            log.debug("conversation %s is with a person: the bot stays quiet", turn.conversation.id)
        else:
            self._reply(turn, "fallback")

    async def _start(self, uow: UnitOfWork, turn: Turn) -> None:
        contact = turn.contact
        if turn.event.command_args:
            contact.start_payload = turn.event.command_args[:256]
        was_opted_out = contact.opted_out
        contact.opted_out = False
        await uow.contacts.update(contact)
        self._reply(turn, "resubscribed" if was_opted_out else "greeting")

    async def _link(
        self,
        uow: UnitOfWork,
        event: InboundEvent,
        contact: Contact,
        identity: ChannelIdentity,
        now: datetime,
    ) -> HandleResult:
        code = event.command_args.removeprefix(WEB_LINK_PAYLOAD_PREFIX)
        linked = await link_web_visitor(uow, contact, code)
        contact = linked or contact
        conversation = await self._conversation_for(uow, contact, event, now)
        turn = Turn(event, contact, identity, conversation, now)
        await self._store_inbound(uow, turn)
        self._reply(turn, "linked" if linked else "link_expired")
        await self._send(uow, turn)
        return HandleResult(contact.id, conversation.id, len(turn.replies))

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

    def _reply(self, turn: Turn, template: str) -> None:
        text = self._renderer.render(template, turn.contact.language, turn.context())
        turn.replies.append(
            OutboundDraft(
                key=f"reply:{turn.event.update_key}:{len(turn.replies)}",
                contact_id=turn.contact.id,
                channel=turn.event.sender.channel,
                address=turn.event.sender.address,
                text=text,
                kind=OutboundKind.REPLY,
                conversation_id=turn.conversation.id,
            )
        )

    async def _send(self, uow: UnitOfWork, turn: Turn) -> None:
        for draft in turn.replies:
            await self._outbox.enqueue(uow, draft, turn.at)


def _is_command(event: InboundEvent, name: str) -> bool:
    return event.kind is InboundKind.COMMAND and event.command == name
