"""What the supervisors' tools (the console, the agents' desk) need of the survey service:
the low scores waiting for a person, and the one action on them, reopen."""

from __future__ import annotations

from typing import Protocol

from bot.domain.handoff import Agent
from bot.domain.ports import UnitOfWork
from bot.domain.surveys import SurveyResponse
from bot.handoff.actions import ActionResult


class FollowUps(Protocol):
    async def pending_follow_ups(self, uow: UnitOfWork, limit: int = 100) -> list[SurveyResponse]:
        """Low scores no supervisor acted on yet, oldest first."""
        ...

    async def reopen(self, uow: UnitOfWork, response_id: int, supervisor: Agent) -> ActionResult:
        """Put the chat of a low score back in the queue (supervisors only)."""
        ...
