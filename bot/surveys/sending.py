"""Creating a survey response and queueing its question, or recording why it was not sent.

A response is stored whatever happens, as `sent` or as `suppressed` with its reason (throttled,
opted out, blocked, unreachable): reports can then tell "not asked" from "not answered", and
the unique hand-off / enrollment keys make a repeated close or funnel batch store nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.outbox import Outbox
from bot.domain.model import Channel, ChannelIdentity, Contact, OutboundDraft, OutboundKind
from bot.domain.ports import UnitOfWork
from bot.domain.surveys import SurveyResponse, SurveyStatus
from bot.surveys.model import Survey, score_buttons
from bot.surveys.texts import SurveyTexts, built_in_question

log = logging.getLogger(__name__)

_CHANNEL_ORDER = (Channel.TELEGRAM, Channel.WEBCHAT)


@dataclass(frozen=True, slots=True)
class SurveyRules:
    """The `surveys:` section, as the service uses it."""

    after_close: str | None = "csat_after_chat"
    after_close_delay: timedelta = timedelta(minutes=10)
    throttle: timedelta = timedelta(days=7)
    after_bot_resolved: bool = False
    expiry: timedelta = timedelta(hours=48)
    low_score_alert: bool = True
    default_language: str = "en"

    @classmethod
    def from_settings(cls, settings: Any, default_language: str) -> SurveyRules:
        """From `Settings.surveys` (a `SurveysSettings`) and `Settings.bot.default_language`."""
        return cls(
            after_close=settings.after_close,
            after_close_delay=settings.after_close_delay,
            throttle=settings.throttle,
            after_bot_resolved=settings.after_bot_resolved,
            expiry=settings.expiry,
            low_score_alert=settings.low_score_alert,
            default_language=default_language,
        )


@dataclass(frozen=True, slots=True)
class About:
    """What a survey asks about; stored with the answer so reports can group by it."""

    conversation_id: int | None = None
    handoff_id: int | None = None
    agent_id: int | None = None
    team: str | None = None
    funnel_id: str | None = None
    enrollment_id: int | None = None
    step_id: str | None = None  # the funnel's survey step: its question is that step's message


class SurveySender:
    def __init__(self, rules: SurveyRules, texts: SurveyTexts, outbox: Outbox) -> None:
        self._rules = rules
        self._texts = texts
        self._outbox = outbox

    async def create(
        self,
        uow: UnitOfWork,
        survey: Survey,
        contact_id: int,
        about: About,
        due: datetime,
        at: datetime,
    ) -> SurveyResponse | None:
        """Store the response (sent or suppressed) and queue the question for `due`; None when
        the contact is gone or this hand-off / enrollment was already surveyed."""
        contact = await uow.contacts.get(contact_id)
        if contact is None:
            return None
        identity = await self._identity(uow, contact_id, about.conversation_id)
        reason = await self._screen(uow, contact, identity, due)
        response = await uow.surveys.add(
            SurveyResponse(
                id=0, survey_id=survey.id, kind=survey.kind, contact_id=contact.id,
                status=SurveyStatus.SUPPRESSED if reason else SurveyStatus.SENT,
                created_at=at, sent_at=due, expires_at=due + (survey.expiry or self._rules.expiry),
                language=contact.language or self._rules.default_language, reason=reason,
                conversation_id=about.conversation_id, handoff_id=about.handoff_id,
                agent_id=about.agent_id, team=about.team, funnel_id=about.funnel_id,
                enrollment_id=about.enrollment_id,
            )
        )  # fmt: skip
        if response is None:
            return None
        if reason is not None or identity is None:
            log.info("survey %s for contact %s not sent: %s", survey.id, contact.id, reason)
            return response
        await self._enqueue(uow, survey, response, contact, identity, about, at)
        return response

    async def _screen(
        self,
        uow: UnitOfWork,
        contact: Contact,
        identity: ChannelIdentity | None,
        due: datetime,
    ) -> str | None:
        """Why the question must not go out; None when it may."""
        if contact.blocked:
            return "the contact blocked the bot"
        if contact.opted_out:
            return "the contact opted out"
        if identity is None:
            return "no channel reaches the contact"
        throttle = self._rules.throttle
        if throttle > timedelta(0) and await uow.surveys.count_sent_since(
            contact.id, due - throttle
        ):
            return f"throttled: the contact was surveyed less than {throttle.days} days before"
        return None

    async def _identity(
        self, uow: UnitOfWork, contact_id: int, conversation_id: int | None
    ) -> ChannelIdentity | None:
        """Where to ask: the channel of the conversation asked about, else Telegram first."""
        identities = [i for i in await uow.identities.for_contact(contact_id) if not i.blocked]
        conversation = await uow.conversations.get(conversation_id) if conversation_id else None
        preferred = conversation.channel if conversation is not None else None
        identities.sort(key=lambda i: (i.channel != preferred, _CHANNEL_ORDER.index(i.channel)))
        return identities[0] if identities else None

    async def _enqueue(
        self,
        uow: UnitOfWork,
        survey: Survey,
        response: SurveyResponse,
        contact: Contact,
        identity: ChannelIdentity,
        about: About,
        at: datetime,
    ) -> None:
        agent = await uow.agents.get(response.agent_id) if response.agent_id else None
        context = {
            "name": contact.display_name,
            "contact": contact,
            "agent": agent.name if agent else "",
        }
        text = self._texts.render(
            survey.question, built_in_question(survey.kind), response.language, context
        )
        draft = OutboundDraft(
            key=f"survey:{response.id}",
            contact_id=contact.id,
            channel=identity.channel,
            address=identity.address,
            text=text,
            kind=OutboundKind.SURVEY,
            conversation_id=response.conversation_id,
            buttons=score_buttons(survey.kind, response.id),
            not_before=response.sent_at,
            enrollment_id=about.enrollment_id if about.step_id is not None else None,
            step_id=about.step_id,
        )
        await self._outbox.enqueue(uow, draft, at)
