"""The survey service: ask after a closed chat or from a funnel, take the answer, follow up.

`schedule_after_close` and `send_from_funnel` store a response and queue its question (see
`sending.py`). `answer` takes a score button (`sv:<response id>:<score>`): the first press wins,
a low score alerts the supervisors (an event in the chat's feed, a follow-up flag) and, when
the survey has a `follow_up`, asks for a comment that `comment` takes from the customer's next
message. `reopen` is the supervisors' one action on a low score; `expire` runs from a timer.
Every method works in the caller's unit of work; the caller commits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.funnel import Enrollment
from bot.domain.handoff import Agent, CloseReason, Handoff, HandoffReason
from bot.domain.ports import UnitOfWork
from bot.domain.surveys import SurveyResponse
from bot.handoff.actions import ActionResult, Outcome
from bot.surveys.answers import LOW_SCORE_EVENT, HandoffRequester, SurveyAnswers, SurveyReply
from bot.surveys.model import Survey
from bot.surveys.sending import About, SurveyRules

log = logging.getLogger(__name__)

# Closes that earn a survey: an agent ended the chat. Idle closes and customers who left are
# not asked (nobody finished talking to them, or nobody can reach them).
SURVEYED_CLOSES = (CloseReason.CLOSED, CloseReason.BACK_TO_BOT)
FOLLOW_UP_SUMMARY = "low score follow-up"

__all__ = [
    "FOLLOW_UP_SUMMARY", "LOW_SCORE_EVENT", "SURVEYED_CLOSES", "HandoffRequester", "SurveyReply",
    "SurveyRules", "SurveyService",
]  # fmt: skip


class SurveyService(SurveyAnswers):
    # -- asking ---------------------------------------------------------------------------------

    async def schedule_after_close(
        self, uow: UnitOfWork, handoff: Handoff, at: datetime
    ) -> SurveyResponse | None:
        """Ask about a chat an agent just closed, `after_close_delay` from now; once per
        conversation. None when nothing was stored (not surveyed, or surveyed already)."""
        if handoff.close_reason not in SURVEYED_CLOSES:
            return None
        survey = self._after_close_survey()
        if survey is None or await uow.surveys.exists_for_conversation(handoff.conversation_id):
            return None
        about = About(
            conversation_id=handoff.conversation_id,
            handoff_id=handoff.id,
            agent_id=handoff.agent_id or handoff.closed_by,
            team=handoff.team,
        )
        due = at + self._rules.after_close_delay
        return await self._sender.create(uow, survey, handoff.contact_id, about, due, at)

    async def schedule_after_bot_resolved(
        self, uow: UnitOfWork, conversation_id: int, contact_id: int, at: datetime
    ) -> SurveyResponse | None:
        """The bot alone solved the question ("Did this help?" - Yes): ask too, when
        `after_bot_resolved` is on; once per conversation."""
        survey = self._after_close_survey() if self._rules.after_bot_resolved else None
        if survey is None or await uow.surveys.exists_for_conversation(conversation_id):
            return None
        due = at + self._rules.after_close_delay
        about = About(conversation_id=conversation_id)
        return await self._sender.create(uow, survey, contact_id, about, due, at)

    async def send_from_funnel(
        self,
        uow: UnitOfWork,
        survey_id: str,
        contact_id: int,
        enrollment: Enrollment,
        at: datetime,
        step_id: str | None = None,
    ) -> SurveyResponse | None:
        """A funnel's `survey:` step (`step_id`): ask now. A suppressed response carries its
        `reason`; None when the survey is unknown or this enrollment was already surveyed."""
        survey = self.survey(survey_id)
        if survey is None:
            log.warning("funnel %s asks for an unknown survey %r", enrollment.funnel_id, survey_id)
            return None
        conversation = await uow.conversations.open_for_contact(contact_id)
        about = About(
            conversation_id=conversation.id if conversation is not None else None,
            funnel_id=enrollment.funnel_id,
            enrollment_id=enrollment.id,
            step_id=step_id,
        )
        return await self._sender.create(uow, survey, contact_id, about, at, at)

    def _after_close_survey(self) -> Survey | None:
        survey = self.survey(self._rules.after_close)
        if survey is None and self._rules.after_close:
            log.warning("surveys.after_close names an unknown survey %r", self._rules.after_close)
        return survey

    # -- supervisors and timers -----------------------------------------------------------------

    async def reopen(self, uow: UnitOfWork, response_id: int, supervisor: Agent) -> ActionResult:
        """Put the chat of a low score back in the queue, for a person to follow up."""
        if not supervisor.is_supervisor:
            return ActionResult(Outcome.NOT_ALLOWED, "Only a supervisor can reopen a chat.")
        response = await uow.surveys.get(response_id)
        if response is None:
            return ActionResult(Outcome.NOT_FOUND, "There is no such survey answer.")
        if not response.follow_up_pending:
            if response.reopened_at is not None:
                return ActionResult(Outcome.ALREADY_TAKEN, "This chat was reopened already.")
            return ActionResult(Outcome.NOT_ALLOWED, "This answer needs no follow-up.")
        conversation_id = await self._conversation_to_reopen(uow, response)
        handoff = None
        if self._handoff is not None and conversation_id is not None:
            handoff = await self._handoff.request(
                uow, conversation_id, HandoffReason.AGENT, summary=FOLLOW_UP_SUMMARY,
                notice_key=f"survey:{response.id}:reopen",
            )  # fmt: skip
        if handoff is None:
            return ActionResult(Outcome.NOT_ALLOWED, "Hand-off is off: the chat cannot reopen.")
        now = self._clock.now()
        if not await uow.surveys.mark_reopened(response.id, supervisor.id, now):
            return ActionResult(Outcome.ALREADY_TAKEN, "This chat was reopened already.", handoff)
        return ActionResult(Outcome.OK, "The chat is back in the queue.", handoff)

    async def _conversation_to_reopen(
        self, uow: UnitOfWork, response: SurveyResponse
    ) -> int | None:
        """The customer's open chat (they may have written since), else the one asked about,
        else a new one on their channel."""
        conversation = await uow.conversations.open_for_contact(response.contact_id)
        if conversation is not None:
            return conversation.id
        if response.conversation_id is not None:
            return response.conversation_id
        identities = await uow.identities.for_contact(response.contact_id)
        reachable = [i for i in identities if not i.blocked]
        if not reachable:
            return None
        now = self._clock.now()
        return (await uow.conversations.create(response.contact_id, reachable[0].channel, now)).id

    async def pending_follow_ups(self, uow: UnitOfWork, limit: int = 100) -> list[SurveyResponse]:
        """Low scores no supervisor acted on yet (the console's list), oldest first."""
        return await uow.surveys.pending_follow_ups(limit)

    async def expire(self, uow: UnitOfWork, now: datetime) -> int:
        """Unanswered surveys past their expiry end (and so does the wait for comments)."""
        expired = await uow.surveys.expire(now)
        if expired:
            log.info("%s unanswered surveys expired", expired)
        return expired
