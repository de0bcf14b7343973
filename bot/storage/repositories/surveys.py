"""Survey responses: the questions sent, the scores, the comments and the follow-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, func, select, true

from bot.domain.surveys import SurveyKind, SurveyResponse, SurveyStatus
from bot.storage.repositories._base import InsertFactory, PerDialect, SqlRepository, binds
from bot.storage.survey_tables import survey_responses as table

_INSERTED = (
    "survey_id", "kind", "contact_id", "conversation_id", "handoff_id", "agent_id", "team",
    "funnel_id", "enrollment_id", "language", "status", "reason", "low_score",
    "awaiting_comment", "follow_up_pending", "created_at", "sent_at", "expires_at",
)  # fmt: skip
_ANSWER = (
    "status", "score", "answered_at", "low_score", "awaiting_comment", "follow_up_pending",
    "expires_at", "conversation_id",
)  # fmt: skip
_SENT = SurveyStatus.SENT.value
_ANSWERED = SurveyStatus.ANSWERED.value


def _build_add(insert: InsertFactory) -> Any:
    # No conflict target: either unique constraint (hand-off, enrollment) makes it a repeat.
    return insert(table).values(binds(table, *_INSERTED)).on_conflict_do_nothing().returning(table)


# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_ADD = PerDialect(_build_add)
_GET = select(table).where(table.c.id == bindparam("response_id"))
_FOR_CONVERSATION = (
    select(table.c.id).where(table.c.conversation_id == bindparam("of_conversation")).limit(1)
)
_SENT_SINCE = select(func.count()).where(
    table.c.contact_id == bindparam("of_contact"),
    table.c.sent_at >= bindparam("since", type_=table.c.sent_at.type),
    table.c.status != SurveyStatus.SUPPRESSED.value,
)
# Compare-and-set on `sent`: of two presses (or a press and the expiry), one wins.
_RECORD_ANSWER = (
    table.update()
    .where(table.c.id == bindparam("response_id"), table.c.status == _SENT)
    .values(binds(table, *_ANSWER))
)
_AWAITING = (
    select(table)
    .where(
        table.c.contact_id == bindparam("of_contact"),
        table.c.status == _ANSWERED,
        table.c.awaiting_comment == true(),
        table.c.expires_at > bindparam("now", type_=table.c.expires_at.type),
    )
    .order_by(table.c.answered_at.desc(), table.c.id.desc())
    .limit(1)
)
_RECORD_COMMENT = (
    table.update()
    .where(table.c.id == bindparam("response_id"), table.c.awaiting_comment == true())
    .values(binds(table, "comment", "commented_at"))
    .values(awaiting_comment=False)
)
_REOPEN = (
    table.update()
    .where(table.c.id == bindparam("response_id"), table.c.follow_up_pending == true())
    .values(binds(table, "reopened_at", "reopened_by"))
    .values(follow_up_pending=False, awaiting_comment=False)
)
_FOLLOW_UPS = (
    select(table)
    .where(table.c.follow_up_pending == true())
    .order_by(table.c.answered_at, table.c.id)
    .limit(bindparam("limit", type_=Integer))
)
_EXPIRE_SENT = (
    table.update()
    .where(
        table.c.status == _SENT,
        table.c.expires_at <= bindparam("now", type_=table.c.expires_at.type),
    )
    .values(status=SurveyStatus.EXPIRED.value)
)
_EXPIRE_COMMENTS = (
    table.update()
    .where(
        table.c.status == _ANSWERED,
        table.c.awaiting_comment == true(),
        table.c.expires_at <= bindparam("now", type_=table.c.expires_at.type),
    )
    .values(awaiting_comment=False)
)
_FOR_CONTACT = (
    select(table)
    .where(table.c.contact_id == bindparam("of_contact"))
    .order_by(table.c.id.desc())
    .limit(bindparam("limit", type_=Integer))
)


def _to_response(row: Row[Any]) -> SurveyResponse:
    return SurveyResponse(
        id=row.id,
        survey_id=row.survey_id,
        kind=SurveyKind(row.kind),
        contact_id=row.contact_id,
        status=SurveyStatus(row.status),
        created_at=row.created_at,
        sent_at=row.sent_at,
        expires_at=row.expires_at,
        language=row.language,
        conversation_id=row.conversation_id,
        handoff_id=row.handoff_id,
        agent_id=row.agent_id,
        team=row.team,
        funnel_id=row.funnel_id,
        enrollment_id=row.enrollment_id,
        reason=row.reason,
        score=row.score,
        answered_at=row.answered_at,
        comment=row.comment,
        commented_at=row.commented_at,
        low_score=row.low_score,
        awaiting_comment=row.awaiting_comment,
        follow_up_pending=row.follow_up_pending,
        reopened_at=row.reopened_at,
        reopened_by=row.reopened_by,
    )


def _values(response: SurveyResponse, names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(response, name) for name in names}
    for name in ("kind", "status"):
        if name in values:
            values[name] = values[name].value
    return values


class SqlSurveyResponseRepository(SqlRepository):
    async def add(self, response: SurveyResponse) -> SurveyResponse | None:
        row = (await self._conn.execute(_ADD.of(self._conn), _values(response, _INSERTED))).first()
        return _to_response(row) if row is not None else None

    async def get(self, response_id: int) -> SurveyResponse | None:
        row = (await self._conn.execute(_GET, {"response_id": response_id})).first()
        return _to_response(row) if row is not None else None

    async def exists_for_conversation(self, conversation_id: int) -> bool:
        params = {"of_conversation": conversation_id}
        return (await self._conn.execute(_FOR_CONVERSATION, params)).first() is not None

    async def count_sent_since(self, contact_id: int, since: datetime) -> int:
        params = {"of_contact": contact_id, "since": since}
        return int((await self._conn.execute(_SENT_SINCE, params)).scalar_one())

    async def record_answer(self, response: SurveyResponse) -> bool:
        params = {"response_id": response.id, **_values(response, _ANSWER)}
        return (await self._conn.execute(_RECORD_ANSWER, params)).rowcount == 1

    async def awaiting_comment(self, contact_id: int, now: datetime) -> SurveyResponse | None:
        row = (await self._conn.execute(_AWAITING, {"of_contact": contact_id, "now": now})).first()
        return _to_response(row) if row is not None else None

    async def record_comment(self, response_id: int, comment: str, at: datetime) -> bool:
        params = {"response_id": response_id, "comment": comment, "commented_at": at}
        return (await self._conn.execute(_RECORD_COMMENT, params)).rowcount == 1

    async def mark_reopened(self, response_id: int, supervisor_id: int, at: datetime) -> bool:
        params = {"response_id": response_id, "reopened_at": at, "reopened_by": supervisor_id}
        return (await self._conn.execute(_REOPEN, params)).rowcount == 1

    async def pending_follow_ups(self, limit: int = 100) -> list[SurveyResponse]:
        rows = await self._conn.execute(_FOLLOW_UPS, {"limit": limit})
        return [_to_response(row) for row in rows]

    async def expire(self, now: datetime) -> int:
        expired = (await self._conn.execute(_EXPIRE_SENT, {"now": now})).rowcount
        await self._conn.execute(_EXPIRE_COMMENTS, {"now": now})
        return int(expired)

    async def for_contact(self, contact_id: int, limit: int = 50) -> list[SurveyResponse]:
        rows = await self._conn.execute(_FOR_CONTACT, {"of_contact": contact_id, "limit": limit})
        return [_to_response(row) for row in rows]
