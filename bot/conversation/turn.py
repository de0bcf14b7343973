"""One inbound event being handled: who, where, in which language, and the replies so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.handoff import HandoffReason
from bot.domain.inbound import InboundEvent
from bot.domain.model import (
    Button,
    ChannelIdentity,
    Contact,
    Conversation,
    OutboundDraft,
    OutboundKind,
)
from bot.rendering import Renderer


@dataclass(slots=True)
class Turn:
    event: InboundEvent
    contact: Contact
    identity: ChannelIdentity
    conversation: Conversation
    at: datetime
    language: str  # what the customer is answered in
    replies: list[OutboundDraft] = field(default_factory=list)
    # Set when this turn should end with the chat handed to a person (after the replies).
    handoff_reason: HandoffReason | None = None
    handoff_summary: str | None = None

    def hand_off(self, reason: HandoffReason, summary: str | None = None) -> None:
        """Ask for a person once the replies of this turn are queued (first reason wins)."""
        if self.handoff_reason is None:
            self.handoff_reason = reason
            self.handoff_summary = summary

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"name": self.contact.display_name, "contact": self.contact, **extra}

    def add(self, text: str, buttons: list[list[Button]] | None = None) -> None:
        """Queue a reply; its key is derived from the update, so a replay stores nothing new."""
        self.replies.append(
            OutboundDraft(
                key=f"reply:{self.event.update_key}:{len(self.replies)}",
                contact_id=self.contact.id,
                channel=self.event.sender.channel,
                address=self.event.sender.address,
                text=text,
                kind=OutboundKind.REPLY,
                conversation_id=self.conversation.id,
                buttons=buttons or [],
            )
        )

    def say(
        self,
        renderer: Renderer,
        template: str,
        buttons: list[list[Button]] | None = None,
        **extra: Any,
    ) -> None:
        self.add(renderer.render(template, self.language, self.context(**extra)), buttons)
