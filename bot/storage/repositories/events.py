"""The conversation event feed: the audit trail, and what the desk and the console follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, func, select

from bot.domain.handoff import ConversationEvent, EventKind
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.tables import conversation_events

_COLUMNS = ("conversation_id", "handoff_id", "kind", "at", "agent_id", "text", "data")

# Statements are built once (see `_base`).
_ADD = (
    conversation_events.insert()
    .values(binds(conversation_events, *_COLUMNS))
    .returning(conversation_events)
)
# Followers remember the last id they saw: ids only grow (AUTOINCREMENT on SQLite, a sequence
# on PostgreSQL), so walking the primary key never misses or repeats an event once committed.
_AFTER = (
    select(conversation_events)
    .where(conversation_events.c.id > bindparam("after_id"))
    .order_by(conversation_events.c.id)
    .limit(bindparam("limit", type_=Integer))
)
_LATEST_OF_CONVERSATION = (
    select(conversation_events)
    .where(conversation_events.c.conversation_id == bindparam("of_conversation"))
    .order_by(conversation_events.c.id.desc())
    .limit(bindparam("limit", type_=Integer))
)
_LAST_ID = select(func.coalesce(func.max(conversation_events.c.id), 0))


def _to_event(row: Row[Any]) -> ConversationEvent:
    return ConversationEvent(
        id=row.id,
        conversation_id=row.conversation_id,
        kind=EventKind(row.kind),
        at=row.at,
        handoff_id=row.handoff_id,
        agent_id=row.agent_id,
        text=row.text,
        data=dict(row.data),
    )


class SqlConversationEventRepository(SqlRepository):
    async def add(
        self,
        conversation_id: int,
        kind: EventKind,
        at: datetime,
        handoff_id: int | None = None,
        agent_id: int | None = None,
        text: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> ConversationEvent:
        params: dict[str, Any] = {
            "conversation_id": conversation_id,
            "handoff_id": handoff_id,
            "kind": kind.value,
            "at": at,
            "agent_id": agent_id,
            "text": text,
            "data": dict(data or {}),
        }
        return _to_event((await self._conn.execute(_ADD, params)).one())

    async def after(self, event_id: int, limit: int = 100) -> list[ConversationEvent]:
        params = {"after_id": event_id, "limit": limit}
        return [_to_event(row) for row in await self._conn.execute(_AFTER, params)]

    async def for_conversation(
        self, conversation_id: int, limit: int = 200
    ) -> list[ConversationEvent]:
        params = {"of_conversation": conversation_id, "limit": limit}
        latest = [
            _to_event(row) for row in await self._conn.execute(_LATEST_OF_CONVERSATION, params)
        ]
        return latest[::-1]

    async def last_id(self) -> int:
        return int((await self._conn.execute(_LAST_ID)).scalar_one())
