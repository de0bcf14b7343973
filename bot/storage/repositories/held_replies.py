"""Trainees' replies waiting for a supervisor's approval."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select

from bot.domain.handoff import HeldReply, HeldReplyStatus
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.tables import held_replies

# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = (
    held_replies.insert()
    .values(binds(held_replies, "handoff_id", "conversation_id", "agent_id", "text", "created_at"))
    .values(status=HeldReplyStatus.PENDING.value)
    .returning(held_replies)
)
_GET = select(held_replies).where(held_replies.c.id == bindparam("held_id"))
_PENDING = (
    select(held_replies)
    .where(held_replies.c.status == HeldReplyStatus.PENDING.value)
    .order_by(held_replies.c.id)
    .limit(bindparam("limit", type_=Integer))
)
# A compare-and-set on PENDING: two supervisors deciding at once cannot both send the reply.
_DECIDE = (
    held_replies.update()
    .where(
        held_replies.c.id == bindparam("held_id"),
        held_replies.c.status == HeldReplyStatus.PENDING.value,
    )
    .values(binds(held_replies, "status", "decided_by", "decided_at", "final_text"))
)


def _to_held(row: Row[Any]) -> HeldReply:
    return HeldReply(
        id=row.id,
        handoff_id=row.handoff_id,
        conversation_id=row.conversation_id,
        agent_id=row.agent_id,
        text=row.text,
        status=HeldReplyStatus(row.status),
        created_at=row.created_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        final_text=row.final_text,
    )


class SqlHeldReplyRepository(SqlRepository):
    async def add(
        self, handoff_id: int, conversation_id: int, agent_id: int, text: str, at: datetime
    ) -> HeldReply:
        params: dict[str, Any] = {
            "handoff_id": handoff_id,
            "conversation_id": conversation_id,
            "agent_id": agent_id,
            "text": text,
            "created_at": at,
        }
        return _to_held((await self._conn.execute(_ADD, params)).one())

    async def get(self, held_id: int) -> HeldReply | None:
        row = (await self._conn.execute(_GET, {"held_id": held_id})).first()
        return _to_held(row) if row is not None else None

    async def pending(self, limit: int = 100) -> list[HeldReply]:
        return [_to_held(row) for row in await self._conn.execute(_PENDING, {"limit": limit})]

    async def decide(
        self,
        held_id: int,
        status: HeldReplyStatus,
        decided_by: int,
        at: datetime,
        final_text: str | None,
    ) -> bool:
        if status is HeldReplyStatus.PENDING:
            raise ValueError("a decision is APPROVED or REJECTED, not PENDING")
        params: dict[str, Any] = {
            "held_id": held_id,
            "status": status.value,
            "decided_by": decided_by,
            "decided_at": at,
            "final_text": final_text,
        }
        return (await self._conn.execute(_DECIDE, params)).rowcount == 1
