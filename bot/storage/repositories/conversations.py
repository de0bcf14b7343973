"""Conversations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select

from bot.domain.model import Channel, Conversation, ConversationStatus
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.tables import conversations

# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_GET = select(conversations).where(conversations.c.id == bindparam("conversation_id"))
# Normally at most one is open; after a contact merge there can be two, and the newest is the
# one the customer is talking in.
_OPEN_FOR_CONTACT = (
    select(conversations)
    .where(
        conversations.c.contact_id == bindparam("contact_id"),
        conversations.c.status != ConversationStatus.CLOSED.value,
    )
    .order_by(conversations.c.id.desc())
    .limit(1)
)
# `open_for_contact` of many contacts: all their open ones, the newest kept per contact.
_OPEN_FOR_CONTACTS = (
    select(conversations)
    .where(
        conversations.c.contact_id.in_(bindparam("contact_ids", expanding=True)),
        conversations.c.status != ConversationStatus.CLOSED.value,
    )
    .order_by(conversations.c.id)
)
_IN_CHUNK = 500  # ids per `IN (...)`: well below SQLite's bound-parameter limit
_CREATE = (
    conversations.insert()
    .values(binds(conversations, "contact_id", "channel", "opened_at", "updated_at"))
    .values(status=ConversationStatus.BOT.value)
    .returning(conversations)
)
_SET_STATUS = (
    conversations.update()
    .where(conversations.c.id == bindparam("conversation_id"))
    .values(binds(conversations, "status", "updated_at", "closed_at"))
)
_TOUCH = (
    conversations.update()
    .where(conversations.c.id == bindparam("conversation_id"))
    .values(binds(conversations, "channel", "updated_at"))
)


def _to_conversation(row: Row[Any]) -> Conversation:
    return Conversation(
        id=row.id,
        contact_id=row.contact_id,
        status=ConversationStatus(row.status),
        channel=Channel(row.channel),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
    )


class SqlConversationRepository(SqlRepository):
    async def get(self, conversation_id: int) -> Conversation | None:
        row = (await self._conn.execute(_GET, {"conversation_id": conversation_id})).first()
        return _to_conversation(row) if row is not None else None

    async def open_for_contact(self, contact_id: int) -> Conversation | None:
        row = (await self._conn.execute(_OPEN_FOR_CONTACT, {"contact_id": contact_id})).first()
        return _to_conversation(row) if row is not None else None

    async def open_for_contacts(self, contact_ids: Iterable[int]) -> dict[int, Conversation]:
        """`open_for_contact` of many contacts at once (one without an open one is left out)."""
        wanted = sorted(set(contact_ids))
        found: dict[int, Conversation] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            for row in await self._conn.execute(_OPEN_FOR_CONTACTS, {"contact_ids": chunk}):
                found[row.contact_id] = _to_conversation(row)  # ascending ids: newest wins
        return found

    async def create(self, contact_id: int, channel: Channel, at: datetime) -> Conversation:
        params = {
            "contact_id": contact_id,
            "channel": channel.value,
            "opened_at": at,
            "updated_at": at,
        }
        return _to_conversation((await self._conn.execute(_CREATE, params)).one())

    async def set_status(
        self, conversation_id: int, status: ConversationStatus, at: datetime
    ) -> None:
        # Reopening clears closed_at so "closed_at is set" always means "closed now".
        closed_at = at if status is ConversationStatus.CLOSED else None
        params = {
            "conversation_id": conversation_id,
            "status": status.value,
            "updated_at": at,
            "closed_at": closed_at,
        }
        await self._conn.execute(_SET_STATUS, params)

    async def touch(self, conversation_id: int, channel: Channel, at: datetime) -> None:
        params = {"conversation_id": conversation_id, "channel": channel.value, "updated_at": at}
        await self._conn.execute(_TOUCH, params)
