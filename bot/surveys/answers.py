"""Taking a survey's answers: the score button, the follow-up comment, the low-score alert.

`SurveyService` (service.py) extends this with the asking, the supervisors' reopen and the
expiry. Every method works in the caller's unit of work; the caller commits.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.handoff import EventKind, Handoff, HandoffReason
from bot.domain.model import Contact, ConversationStatus
from bot.domain.ports import UnitOfWork
from bot.domain.surveys import SurveyResponse, SurveyStatus
from bot.rendering import Renderer
from bot.surveys.catalog import SurveyCatalog
from bot.surveys.model import BUTTON_PREFIX, Survey, parse_button
from bot.surveys.sending import SurveyRules, SurveySender
from bot.surveys.texts import SurveyTexts

log = logging.getLogger(__name__)

MAX_COMMENT = 4000
# The alert supervisors see in the agents' group and the console.
LOW_SCORE_EVENT: EventKind = EventKind.LOW_SCORE


class HandoffRequester(Protocol):
    """`HandoffService.request`: what `reopen` needs to put a chat back in the queue."""

    async def request(
        self,
        uow: Any,
        conversation_id: int,
        reason: HandoffReason,
        *,
        summary: str | None = None,
        language: str | None = None,
        notice_key: str | None = None,
    ) -> Handoff | None: ...


@dataclass(frozen=True, slots=True)
class SurveyReply:
    """A survey button or comment was taken: what to say back (HTML, in the customer's
    language; empty when a stale or forged button is ignored without a word)."""

    texts: tuple[str, ...] = ()
    response: SurveyResponse | None = None


_IGNORED = SurveyReply()


class SurveyAnswers:
    def __init__(
        self,
        rules: SurveyRules,
        catalog: Callable[[], SurveyCatalog],
        renderer: Renderer,
        outbox: Outbox,
        clock: Clock,
        handoff: HandoffRequester | None = None,
    ) -> None:
        self._rules = rules
        self._catalog = catalog  # e.g. SurveyLibrary.current: the surveys in use now
        self._clock = clock
        self._handoff = handoff
        self._texts = SurveyTexts(renderer, rules.default_language)
        self._sender = SurveySender(rules, self._texts, outbox)
        # Set by the app when webhooks are configured: `publish(uow, type, payload, at, key=)`.
        self.publish: Any = None

    def survey(self, survey_id: str | None) -> Survey | None:
        return self._catalog().get(survey_id) if survey_id else None

    # -- answers --------------------------------------------------------------------------------

    async def answer(
        self, uow: UnitOfWork, contact: Contact, data: str, at: datetime
    ) -> SurveyReply | None:
        """A button press; None when `data` is not a survey's (`sv:`), else what to say."""
        if not data.startswith(BUTTON_PREFIX):
            return None
        parsed = parse_button(data)
        response = await uow.surveys.get(parsed[0]) if parsed else None
        if parsed is None or response is None or response.contact_id != contact.id:
            log.info("survey button %r of contact %s ignored: not theirs", data, contact.id)
            return _IGNORED
        score = parsed[1]
        survey = self.survey(response.survey_id)
        if response.status is SurveyStatus.ANSWERED:
            return self._already_answered(survey, response)
        if score not in response.kind.scores or not _open(response, at):
            log.info("survey button %r of contact %s ignored: stale", data, contact.id)
            return _IGNORED
        answered = await self._answered(uow, survey, response, score, contact, at)
        if not await uow.surveys.record_answer(answered):
            return self._already_answered(survey, response)  # another press won meanwhile
        if answered.follow_up_pending:
            await self._alert(uow, answered, at, None)
        await self._publish(uow, answered, at)
        if answered.awaiting_comment:
            assert survey is not None and survey.follow_up is not None
            text = self._say(survey.follow_up, "follow_up", answered, contact)
        else:
            text = self._say(survey.thanks if survey else None, "thanks", answered, contact)
        return SurveyReply((text,), answered)

    async def _answered(
        self,
        uow: UnitOfWork,
        survey: Survey | None,
        response: SurveyResponse,
        score: int,
        contact: Contact,
        at: datetime,
    ) -> SurveyResponse:
        low = survey.is_low(score) if survey else score <= response.kind.default_low_score
        asks = low and survey is not None and survey.follow_up is not None
        expiry = (survey.expiry if survey else None) or self._rules.expiry
        conversation_id = response.conversation_id
        if conversation_id is None:  # a funnel's survey: the chat the answer came in
            conversation = await uow.conversations.open_for_contact(contact.id)
            conversation_id = conversation.id if conversation is not None else None
        return dataclasses.replace(
            response,
            status=SurveyStatus.ANSWERED,
            score=score,
            answered_at=at,
            low_score=low,
            awaiting_comment=asks,
            follow_up_pending=low and self._rules.low_score_alert,
            # While a comment is awaited, `expires_at` is the end of that wait.
            expires_at=at + expiry if asks else response.expires_at,
            conversation_id=conversation_id,
        )

    def _already_answered(self, survey: Survey | None, response: SurveyResponse) -> SurveyReply:
        text = survey.already_answered if survey else None
        return SurveyReply((self._texts.render(text, "already_answered", response.language, {}),))

    async def comment(
        self, uow: UnitOfWork, contact: Contact, text: str, at: datetime
    ) -> SurveyReply | None:
        """The customer's message, when a follow-up question waits for it: stored as the
        comment and thanked. None when no comment is awaited (the bot handles the message)."""
        text = text.strip()[:MAX_COMMENT]
        if not text:
            return None
        response = await uow.surveys.awaiting_comment(contact.id, at)
        if response is None:
            return None
        conversation = await uow.conversations.open_for_contact(contact.id)
        if conversation is not None and conversation.status is not ConversationStatus.BOT:
            return None  # a person has the chat now: the message is theirs to read
        if not await uow.surveys.record_comment(response.id, text, at):
            return None
        commented = dataclasses.replace(response, comment=text, commented_at=at)
        if response.follow_up_pending:
            await self._alert(uow, commented, at, text)
        survey = self.survey(response.survey_id)
        reply = self._say(survey.thanks if survey else None, "thanks", commented, contact)
        return SurveyReply((reply,), commented)

    def _say(self, text: Any, fallback: str, response: SurveyResponse, contact: Contact) -> str:
        context = {"name": contact.display_name, "contact": contact, "agent": ""}
        return self._texts.render(text, fallback, contact.language or response.language, context)

    async def _alert(
        self, uow: UnitOfWork, response: SurveyResponse, at: datetime, comment: str | None
    ) -> None:
        """Tell the supervisors through the chat's event feed (the desk and console follow it)."""
        if response.conversation_id is None:
            log.warning("low score on survey response %s, no chat to flag", response.id)
            return
        top = response.kind.scores.stop - 1
        # A sentence in `text`: the console and the desk show it as it is (also as a NOTE).
        line = f"Low score {response.score}/{top} in the survey {response.survey_id}"
        data: dict[str, object] = {
            "alert": "low_score", "response_id": response.id, "survey": response.survey_id,
            "kind": response.kind.value, "score": response.score, "team": response.team,
            "about_agent_id": response.agent_id, "comment": comment,
        }  # fmt: skip
        await uow.events.add(
            response.conversation_id, LOW_SCORE_EVENT, at, response.handoff_id, None,
            text=f"{line}; the customer wrote: {comment}" if comment else line, data=data,
        )  # fmt: skip
        log.info("low score %s on survey response %s", response.score, response.id)

    async def _publish(self, uow: UnitOfWork, response: SurveyResponse, at: datetime) -> None:
        if self.publish is None:
            return
        agent = await uow.agents.get(response.agent_id) if response.agent_id else None
        payload = {
            "response_id": response.id, "survey_id": response.survey_id,
            "kind": response.kind.value, "score": response.score, "low_score": response.low_score,
            "contact_id": response.contact_id, "conversation_id": response.conversation_id,
            "handoff_id": response.handoff_id, "agent": agent.key if agent else None,
            "team": response.team, "funnel_id": response.funnel_id,
            "enrollment_id": response.enrollment_id,
        }  # fmt: skip
        key = f"survey.answered:{response.id}"
        await self.publish(uow, "survey.answered", payload, at, key=key)


def _open(response: SurveyResponse, at: datetime) -> bool:
    return response.status is SurveyStatus.SENT and at < response.expires_at
