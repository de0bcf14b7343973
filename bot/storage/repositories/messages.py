"""The message log: what the customer, the bot and the agents said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select

from bot.domain.model import Channel, Direction, Message, NewMessage, Sender
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.repositories.json_rows import JsonRows, bulk_insert
from bot.storage.tables import messages

# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = (
    messages.insert()
    .values(
        binds(
            messages,
            "conversation_id",
            "contact_id",
            "direction",
            "sender",
            "channel",
            "text",
            "channel_message_id",
            "outbox_id",
            "created_at",
        )
    )
    .returning(messages)
)
# add_many: the lot in one statement (see `JsonRows`); one message (a reply) as a plain
# INSERT, which costs less CPU than unpacking JSON (bench/enqueue.py).
_NEW_COLUMNS = (
    "conversation_id", "contact_id", "direction", "sender", "channel", "text", "outbox_id",
    "created_at",
)  # fmt: skip
_NEW = JsonRows(messages, _NEW_COLUMNS)
_ADD_MANY = bulk_insert(_NEW, constants={})
_ADD_ONE = messages.insert().values(binds(messages, *_NEW_COLUMNS))
# Ids grow with insertion, so "latest" is the highest ids (ix_messages_contact_id_id);
# timestamps could tie or come from clocks that disagree.
_HISTORY = (
    select(messages)
    .where(messages.c.contact_id == bindparam("contact_id"))
    .order_by(messages.c.id.desc())
    .limit(bindparam("limit", type_=Integer))
)
_SET_CHANNEL_MESSAGE_ID = (
    messages.update()
    .where(messages.c.outbox_id == bindparam("of_outbox"))
    .values(binds(messages, "channel_message_id"))
)


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
        params = {
            "conversation_id": conversation_id,
            "contact_id": contact_id,
            "direction": direction.value,
            "sender": sender.value,
            "channel": channel.value,
            "text": text,
            "channel_message_id": channel_message_id,
            "outbox_id": outbox_id,
            "created_at": at,
        }
        return _to_message((await self._conn.execute(_ADD, params)).one())

    async def add_many(self, new: Sequence[NewMessage]) -> None:
        rows = [
            [m.conversation_id, m.contact_id, m.direction.value, m.sender.value, m.channel.value,
             m.text, m.outbox_id, m.at]
            for m in new
        ]  # fmt: skip
        if len(rows) == 1:
            await self._conn.execute(_ADD_ONE, dict(zip(_NEW_COLUMNS, rows[0], strict=True)))
        elif rows:
            dialect = self._conn.dialect
            await self._conn.execute(_ADD_MANY[dialect.name], _NEW.params(dialect, rows))

    async def history(self, contact_id: int, limit: int = 50) -> list[Message]:
        params = {"contact_id": contact_id, "limit": limit}
        latest = [_to_message(row) for row in await self._conn.execute(_HISTORY, params)]
        latest.reverse()
        return latest

    async def set_channel_message_id(self, outbox_id: int, channel_message_id: str) -> None:
        params = {"of_outbox": outbox_id, "channel_message_id": channel_message_id}
        await self._conn.execute(_SET_CHANNEL_MESSAGE_ID, params)

    async def set_channel_message_ids(self, sent: Sequence[tuple[int, str]]) -> None:
        if not sent:
            return
        params = [{"of_outbox": row, "channel_message_id": message} for row, message in sent]
        await self._conn.execute(_SET_CHANNEL_MESSAGE_ID, params)  # one executemany
