"""The message log: what the customer, the bot and the agents said."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from bot.domain.model import Channel, Direction, Message, Sender
from bot.storage.repositories._base import SqlRepository
from bot.storage.tables import messages


def _to_message(row: Row[Any]) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        contact_id=row.contact_id,
        direction=Direction(row.direction),
        sender=Sender(row.sender),
        channel=Channel(row.channel),
        text=row.text,
        created_at=row.created_at,
        channel_message_id=row.channel_message_id,
        outbox_id=row.outbox_id,
    )


class SqlMessageRepository(SqlRepository):
    async def add(
        self,
        conversation_id: int,
        contact_id: int,
        direction: Direction,
        sender: Sender,
        channel: Channel,
        text: str,
        at: datetime,
        channel_message_id: str | None = None,
        outbox_id: int | None = None,
    ) -> Message:
        stmt = (
            insert(messages)
            .values(
                conversation_id=conversation_id,
                contact_id=contact_id,
                direction=direction.value,
                sender=sender.value,
                channel=channel.value,
                text=text,
                channel_message_id=channel_message_id,
                outbox_id=outbox_id,
                created_at=at,
            )
            .returning(messages)
        )
        return _to_message((await self._conn.execute(stmt)).one())

    async def history(self, contact_id: int, limit: int = 50) -> list[Message]:
        # Ids grow with insertion, so "latest" is the highest ids (ix_messages_contact_id_id);
        # timestamps could tie or come from clocks that disagree.
        stmt = (
            select(messages)
            .where(messages.c.contact_id == contact_id)
            .order_by(messages.c.id.desc())
            .limit(limit)
        )
        latest = [_to_message(row) for row in await self._conn.execute(stmt)]
        latest.reverse()
        return latest

    async def set_channel_message_id(self, outbox_id: int, channel_message_id: str) -> None:
        stmt = (
            update(messages)
            .where(messages.c.outbox_id == outbox_id)
            .values(channel_message_id=channel_message_id)
        )
        await self._conn.execute(stmt)
