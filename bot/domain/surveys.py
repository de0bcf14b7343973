"""Surveys: a customer is asked how we did (CSAT 1-5, NPS 0-10) and the answer is kept.

A `SurveyResponse` is one question put to one contact, about what it asked about: a hand-off
(the agent, the team, the conversation) or a funnel (the funnel, the enrollment). It is created
`sent` when the question is queued (`sent_at` is when it goes out), `suppressed` when it must
not be sent (throttle, opt-out, blocked), becomes `answered` at the first button press and
`expired` when nobody answered in time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class SurveyKind(enum.StrEnum):
    CSAT = "csat"  # 1..5: how satisfied were you with this chat
    NPS = "nps"  # 0..10: how likely are you to recommend us

    @property
    def scores(self) -> range:
        return range(1, 6) if self is SurveyKind.CSAT else range(0, 11)

    @property
    def default_low_score(self) -> int:
        """Scores at or below this are low: CSAT 1-2, NPS 0-6 (the detractors)."""
        return 2 if self is SurveyKind.CSAT else 6


class SurveyStatus(enum.StrEnum):
    SENT = "sent"  # queued (maybe due later): waiting for the customer's answer
    ANSWERED = "answered"
    EXPIRED = "expired"  # nobody answered before `expires_at`
    SUPPRESSED = "suppressed"  # never sent; `reason` says why


@dataclass(slots=True)
class SurveyResponse:
    id: int
    survey_id: str
    kind: SurveyKind
    contact_id: int
    status: SurveyStatus
    created_at: datetime
    sent_at: datetime  # when the question goes (went) out: the close plus the delay
    expires_at: datetime  # answered: the end of the wait for a follow-up comment
    language: str | None = None
    # What the answer is about (reports group by these).
    conversation_id: int | None = None
    handoff_id: int | None = None
    agent_id: int | None = None
    team: str | None = None
    funnel_id: str | None = None
    enrollment_id: int | None = None
    reason: str | None = None  # why it was suppressed
    score: int | None = None
    answered_at: datetime | None = None
    comment: str | None = None
    commented_at: datetime | None = None
    low_score: bool = False
    awaiting_comment: bool = False  # the follow-up question was asked: next text is the comment
    follow_up_pending: bool = False  # a low score no supervisor has acted on yet
    reopened_at: datetime | None = None
    reopened_by: int | None = None  # the supervisor who put the chat back in the queue
