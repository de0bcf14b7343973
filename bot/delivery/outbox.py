"""Turns what services want to send into stored outbox rows.

Every outbound message, whoever produces it, passes through `Outbox.enqueue` inside the
producer's unit of work, so the row commits together with the decision that produced it.
A long text becomes several rows (`key#1`, `key#2`, ...) split at sensible boundaries for the
channel; the dispatcher sends them in order. Enqueuing the same key twice stores nothing new.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

from bot.delivery.splitting import split_html
from bot.domain.model import Channel, Direction, OutboundDraft, OutboundMessage, Sender
from bot.domain.model import OutboundKind as Kind
from bot.domain.ports import UnitOfWork

_SENDER_BY_KIND = {
    Kind.REPLY: Sender.BOT,
    Kind.AGENT: Sender.AGENT,
    Kind.FUNNEL: Sender.BOT,
    Kind.SURVEY: Sender.BOT,
    Kind.BROADCAST: Sender.BOT,
    Kind.SYSTEM: Sender.SYSTEM,
}

DEFAULT_TEXT_LIMIT = 4096


class Outbox:
    def __init__(self, text_limits: Mapping[Channel, int]) -> None:
        self._limits = dict(text_limits)

    def limit_for(self, channel: Channel) -> int:
        return self._limits.get(channel, DEFAULT_TEXT_LIMIT)

    async def enqueue(
        self, uow: UnitOfWork, draft: OutboundDraft, at: datetime
    ) -> list[OutboundMessage]:
        """Store the draft as one row per part; returns the rows stored now (none on a repeat)."""
        stored: list[OutboundMessage] = []
        for part in self._parts(draft):
            row = await uow.outbox.add(part, at)
            if row is None:
                continue
            stored.append(row)
            if part.conversation_id is not None:
                await uow.messages.add(
                    conversation_id=part.conversation_id,
                    contact_id=part.contact_id,
                    direction=Direction.OUTBOUND,
                    sender=_SENDER_BY_KIND[part.kind],
                    channel=part.channel,
                    text=part.text,
                    at=at,
                    outbox_id=row.id,
                )
        return stored

    def _parts(self, draft: OutboundDraft) -> list[OutboundDraft]:
        texts = split_html(draft.text, self.limit_for(draft.channel))
        if len(texts) == 1:
            return [draft]
        last = len(texts) - 1
        return [
            dataclasses.replace(
                draft,
                key=f"{draft.key}#{index + 1}",
                text=text,
                # Buttons belong under the end of the answer, not under its first screen.
                buttons=draft.buttons if index == last else [],
            )
            for index, text in enumerate(texts)
        ]
