"""Conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from bot.domain.model import Channel, Conversation, ConversationStatus
from bot.storage.repositories._base import SqlRepository
from bot.storage.tables import conversations


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
        stmt = select(conversations).where(conversations.c.id == conversation_id)
        row = (await self._conn.execute(stmt)).first()
        return _to_conversation(row) if row is not None else None

    async def open_for_contact(self, contact_id: int) -> Conversation | None:
        # Normally at most one is open; after a contact merge there can be two, and the newest
        # is the one the customer is talking in.
        stmt = (
            select(conversations)
            .where(
                conversations.c.contact_id == contact_id,
                conversations.c.status != ConversationStatus.CLOSED.value,
            )
            .order_by(conversations.c.id.desc())
            .limit(1)
        )
        row = (await self._conn.execute(stmt)).first()
        return _to_conversation(row) if row is not None else None

    async def create(self, contact_id: int, channel: Channel, at: datetime) -> Conversation:
        stmt = (
            insert(conversations)
            .values(
                contact_id=contact_id,
                status=ConversationStatus.BOT.value,
                channel=channel.value,
                opened_at=at,
                updated_at=at,
            )
            .returning(conversations)
        )
        return _to_conversation((await self._conn.execute(stmt)).one())

    async def set_status(
        self, conversation_id: int, status: ConversationStatus, at: datetime
    ) -> None:
        # Reopening clears closed_at so "closed_at is set" always means "closed now".
        closed_at = at if status is ConversationStatus.CLOSED else None
        stmt = (
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(status=status.value, updated_at=at, closed_at=closed_at)
        )
        await self._conn.execute(stmt)

    async def touch(self, conversation_id: int, channel: Channel, at: datetime) -> None:
        stmt = (
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(channel=channel.value, updated_at=at)
        )
        await self._conn.execute(stmt)
