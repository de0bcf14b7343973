"""Small builders for storage tests."""

from __future__ import annotations

from datetime import datetime

from bot.domain.model import (
    Channel,
    Contact,
    Conversation,
    OutboundDraft,
    OutboundKind,
)
from bot.storage.uow import Storage


async def new_contact(storage: Storage, name: str = "Ada", language: str | None = "en") -> Contact:
    async with storage.uow() as uow:
        contact = await uow.contacts.create(name, language)
        await uow.commit()
    return contact


async def new_conversation(storage: Storage, contact_id: int, at: datetime) -> Conversation:
    async with storage.uow() as uow:
        conversation = await uow.conversations.create(contact_id, Channel.TELEGRAM, at)
        await uow.commit()
    return conversation


def draft(
    key: str,
    contact_id: int,
    *,
    kind: OutboundKind = OutboundKind.REPLY,
    not_before: datetime | None = None,
    conversation_id: int | None = None,
) -> OutboundDraft:
    return OutboundDraft(
        key=key,
        contact_id=contact_id,
        channel=Channel.TELEGRAM,
        address="1001",
        text=f"text of {key}",
        kind=kind,
        conversation_id=conversation_id,
        not_before=not_before,
    )


async def add_drafts(storage: Storage, at: datetime, *drafts: OutboundDraft) -> list[int]:
    ids = []
    async with storage.uow() as uow:
        for item in drafts:
            row = await uow.outbox.add(item, at)
            assert row is not None
            ids.append(row.id)
        await uow.commit()
    return ids
