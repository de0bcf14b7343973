"""Turns what services want to send into stored outbox rows.

Every outbound message, whoever produces it, passes through `Outbox.enqueue` (or, for many
at once, `enqueue_many`) inside the producer's unit of work, so the row commits together with
the decision that produced it.
A long text becomes several rows (`key#1`, `key#2`, ...) split at sensible boundaries for the
channel; the dispatcher sends them in order. Enqueuing the same key twice stores nothing new.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.delivery.splitting import split_html
from bot.domain.model import (
    Channel,
    Direction,
    NewMessage,
    OutboundDraft,
    OutboundMessage,
    OutboxStatus,
    Sender,
)
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
        return await self.enqueue_many(uow, [(draft, at)])

    async def enqueue_many(
        self, uow: UnitOfWork, drafts: Sequence[tuple[OutboundDraft, datetime]]
    ) -> list[OutboundMessage]:
        """`enqueue` for many (draft, time) pairs with two statements in all, not two per
        message (a funnel batch's sends: one round trip to the database instead of a hundred).
        Rows are stored in the given order, so a chat's messages are sent in that order."""
        parts = [(part, at) for draft, at in drafts for part in self._parts(draft)]
        new_ids = await uow.outbox.add_many(parts)
        stored: list[OutboundMessage] = []
        for part, at in parts:
            row_id = new_ids.pop(part.key, None)  # a key listed twice was stored the first time
            if row_id is not None:
                stored.append(_stored(part, at, row_id))
        await uow.messages.add_many(
            [
                NewMessage(
                    conversation_id=row.conversation_id,
                    contact_id=row.contact_id,
                    direction=Direction.OUTBOUND,
                    sender=_SENDER_BY_KIND[row.kind],
                    channel=row.channel,
                    text=row.text,
                    at=row.created_at,
                    outbox_id=row.id,
                )
                for row in stored
                if row.conversation_id is not None
            ]
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


def _stored(part: OutboundDraft, at: datetime, row_id: int) -> OutboundMessage:
    """The row `add_many` stored for `part`: what it wrote, without reading it back."""
    return OutboundMessage(
        id=row_id,
        key=part.key,
        contact_id=part.contact_id,
        channel=part.channel,
        address=part.address,
        text=part.text,
        kind=part.kind,
        status=OutboxStatus.PENDING,
        not_before=part.not_before or at,
        created_at=at,
        conversation_id=part.conversation_id,
        buttons=part.buttons,
        thread_id=part.thread_id,
        enrollment_id=part.enrollment_id,
        step_id=part.step_id,
    )
