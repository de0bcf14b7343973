"""The knowledge base's log: every question, the decision taken, and "did this help?"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select

from bot.domain.model import KbDecisionKind, KbInteraction
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.tables import kb_interactions

_COLUMNS = (
    "contact_id",
    "conversation_id",
    "question",
    "language",
    "decision",
    "article_id",
    "score",
    "candidates",
    "created_at",
)
_ADD = kb_interactions.insert().values(binds(kb_interactions, *_COLUMNS)).returning(kb_interactions)
_GET = select(kb_interactions).where(kb_interactions.c.id == bindparam("interaction_id"))
_SET_FEEDBACK = (
    kb_interactions.update()
    .where(kb_interactions.c.id == bindparam("interaction_id"))
    .values(binds(kb_interactions, "helpful", "feedback_at"))
)
_RECENT = (
    select(kb_interactions)
    .where(kb_interactions.c.conversation_id == bindparam("of_conversation"))
    .order_by(kb_interactions.c.id.desc())
    .limit(bindparam("limit"))
)


def _to_interaction(row: Row[Any]) -> KbInteraction:
    return KbInteraction(
        id=row.id,
        contact_id=row.contact_id,
        conversation_id=row.conversation_id,
        question=row.question,
        language=row.language,
        decision=KbDecisionKind(row.decision),
        created_at=row.created_at,
        article_id=row.article_id,
        score=row.score,
        candidates=[(str(article), float(score)) for article, score in row.candidates],
        helpful=row.helpful,
        feedback_at=row.feedback_at,
    )


class SqlKbInteractionRepository(SqlRepository):
    async def add(
        self,
        contact_id: int,
        conversation_id: int,
        question: str,
        language: str,
        decision: KbDecisionKind,
        article_id: str | None,
        score: float | None,
        candidates: list[tuple[str, float]],
        at: datetime,
    ) -> KbInteraction:
        params = {
            "contact_id": contact_id,
            "conversation_id": conversation_id,
            "question": question,
            "language": language,
            "decision": decision.value,
            "article_id": article_id,
            "score": score,
            "candidates": [[article, score] for article, score in candidates],
            "created_at": at,
        }
        row = (await self._conn.execute(_ADD, params)).one()
        return _to_interaction(row)

    async def get(self, interaction_id: int) -> KbInteraction | None:
        row = (await self._conn.execute(_GET, {"interaction_id": interaction_id})).first()
        return _to_interaction(row) if row is not None else None

    async def set_feedback(self, interaction_id: int, helpful: bool, at: datetime) -> bool:
        params = {"interaction_id": interaction_id, "helpful": helpful, "feedback_at": at}
        return (await self._conn.execute(_SET_FEEDBACK, params)).rowcount > 0

    async def recent_for_conversation(
        self, conversation_id: int, limit: int = 5
    ) -> list[KbInteraction]:
        params = {"of_conversation": conversation_id, "limit": limit}
        return [_to_interaction(row) for row in await self._conn.execute(_RECENT, params)]
