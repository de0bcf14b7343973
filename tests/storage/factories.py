"""Small builders for storage tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.handoff import Agent, Handoff, HandoffReason, HandoffStatus
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


async def new_agent(storage: Storage, key: str = "alice", **fields: Any) -> Agent:
    """An agent stored with `upsert`; `fields` override the defaults."""
    async with storage.uow() as uow:
        agent = await uow.agents.upsert(Agent(id=0, key=key, name=key.title(), **fields))
        await uow.commit()
    return agent


def handoff_for(conversation: Conversation, at: datetime, **fields: Any) -> Handoff:
    """A QUEUED hand-off of `conversation` requested at `at`, not stored; `fields` override."""
    values: dict[str, Any] = {
        "id": 0,
        "conversation_id": conversation.id,
        "contact_id": conversation.contact_id,
        "team": "support",
        "language": "en",
        "reason": HandoffReason.CUSTOMER_ASKED,
        "status": HandoffStatus.QUEUED,
        "priority": 0,
        "requested_at": at,
    }
    return Handoff(**{**values, **fields})


async def new_handoff(
    storage: Storage, conversation: Conversation, at: datetime, **fields: Any
) -> Handoff:
    async with storage.uow() as uow:
        stored = await uow.handoffs.add(handoff_for(conversation, at, **fields))
        await uow.commit()
    return stored


async def new_chat(storage: Storage, at: datetime, name: str = "Ada") -> Conversation:
    """A contact and a conversation of theirs."""
    contact = await new_contact(storage, name)
    return await new_conversation(storage, contact.id, at)


def enrollment_for(contact_id: int, at: datetime, **fields: Any) -> Enrollment:
    """A RUNNING enrollment of `contact_id` in funnel "welcome", due at `at`, not stored;
    `fields` override."""
    values: dict[str, Any] = {
        "id": 0,
        "funnel_id": "welcome",
        "contact_id": contact_id,
        "status": EnrollmentStatus.RUNNING,
        "step_id": "hello",
        "resume_step_id": "pause",
        "due_at": at,
        "entered_at": at,
        "updated_at": at,
        "event": {"type": "subscribed", "data": {"source": "site"}},
    }
    return Enrollment(**{**values, **fields})


async def new_enrollment(
    storage: Storage, contact_id: int, at: datetime, **fields: Any
) -> Enrollment:
    async with storage.uow() as uow:
        stored = await uow.enrollments.add(enrollment_for(contact_id, at, **fields))
        await uow.commit()
    return stored
