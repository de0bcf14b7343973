"""The storage port of the surveys (`UnitOfWork.surveys`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.surveys import SurveyResponse


class SurveyResponseRepository(Protocol):
    async def add(self, response: SurveyResponse) -> SurveyResponse | None:
        """Store a new response (its `id` is ignored); None when the survey already exists for
        the same hand-off or the same enrollment (a repeat stores nothing)."""
        ...

    async def get(self, response_id: int) -> SurveyResponse | None: ...

    async def exists_for_conversation(self, conversation_id: int) -> bool:
        """Whether any survey (sent or suppressed) was created about this conversation."""
        ...

    async def count_sent_since(self, contact_id: int, since: datetime) -> int:
        """The contact's surveys (suppressed ones excepted) going out at or after `since`."""
        ...

    async def record_answer(self, response: SurveyResponse) -> bool:
        """Write the answer fields of `response` if it is still `sent` (compare-and-set: the
        first press wins); False when it was not."""
        ...

    async def awaiting_comment(self, contact_id: int, now: datetime) -> SurveyResponse | None:
        """The contact's latest answered survey still waiting for a comment at `now`."""
        ...

    async def record_comment(self, response_id: int, comment: str, at: datetime) -> bool:
        """Store the comment if one is still awaited; False when it was not."""
        ...

    async def mark_reopened(self, response_id: int, supervisor_id: int, at: datetime) -> bool:
        """Clear the follow-up flag (and the wait for a comment) if still set; False if not."""
        ...

    async def pending_follow_ups(self, limit: int = 100) -> list[SurveyResponse]:
        """Low scores no supervisor acted on yet, oldest first."""
        ...

    async def expire(self, now: datetime) -> int:
        """`sent` responses past `expires_at` become `expired`, and answered ones stop waiting
        for a comment; the number expired."""
        ...

    async def for_contact(self, contact_id: int, limit: int = 50) -> list[SurveyResponse]:
        """The contact's responses, newest first."""
        ...
