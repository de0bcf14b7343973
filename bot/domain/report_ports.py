"""The storage port of the reports (`bot.analytics`): the facts they are computed from.

Storage answers with counts where SQL can count (funnel steps, outcomes, articles, retention)
and with one small fact per row where the arithmetic is the report's own (medians, 7-day
windows, day buckets in a time zone). Times are UTC; a period is `[start, end)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class FunnelStepCount:
    """Enrollments of the cohort at one step of a funnel (and variant), each counted once."""

    funnel_id: str
    variant: str | None
    step_id: str | None
    reached: int  # with any funnel-log row at the step
    queued: int  # with a `sent` or `notified` row: the step's message went to the outbox
    button: int  # with a `button` row
    replied: int  # with a `replied` row
    goal: int  # with a `goal` row
    first_log_id: int  # the step's first row: its place when the funnel file is unknown


class Delivery(StrEnum):
    """What became of a step's message for one enrollment, from its outbox rows. When they
    differ (a long text's parts, a step sent again in a loop), the first of this order that
    one of them has decides: a message is delivered only when all of it was."""

    FAILED = "failed"  # the channel refused it, or it was given up after retries
    SUPPRESSED = "suppressed"  # not sent: opted out, blocked the bot, forgotten, ...
    UNKNOWN = "unknown"  # sent, and no answer came back (the worker stopped mid-send)
    PENDING = "pending"  # still waiting (or being sent) in the outbox
    DELIVERED = "delivered"  # the channel accepted it (the outbox row is `sent`)


@dataclass(frozen=True, slots=True)
class StepDeliveryCount:
    """Enrollments of the cohort whose message at one funnel step ended as `delivery`, with
    the stored reason for failed and suppressed ones (None for the others)."""

    funnel_id: str
    step_id: str
    delivery: Delivery
    reason: str | None
    enrollments: int


@dataclass(frozen=True, slots=True)
class FunnelOutcomeCount:
    """Enrollments of the cohort by where they stand now."""

    funnel_id: str
    variant: str | None
    status: str  # an EnrollmentStatus value
    end_reason: str | None
    step_id: str | None  # the step they were at when they ended (or are at now)
    goal: bool  # a `goal` row is in their funnel log
    enrollments: int


@dataclass(frozen=True, slots=True)
class GoalTiming:
    funnel_id: str
    variant: str | None
    entered_at: datetime
    reached_at: datetime  # the first `goal` row


@dataclass(frozen=True, slots=True)
class EnrollmentOrigin:
    funnel_id: str
    variant: str | None


@dataclass(frozen=True, slots=True)
class HandoffFact:
    """A hand-off requested in the period; durations in seconds from `requested_at`."""

    channel: str
    team: str
    agent_id: int | None
    agent_name: str | None
    requested_at: datetime
    first_response_seconds: float | None  # None: no person answered yet
    closed_seconds: float | None  # None: still open
    close_reason: str | None
    has_sla: bool  # a first-response target was set
    sla_breached: bool
    asked_again: bool  # the contact requested another hand-off within 7 days after the close


@dataclass(frozen=True, slots=True)
class SurveyFact:
    kind: str  # "csat" | "nps"
    score: int
    answered_at: datetime
    agent_id: int | None
    agent_name: str | None
    team: str | None
    funnel_id: str | None
    channel: str | None


@dataclass(frozen=True, slots=True)
class ChannelConversations:
    channel: str
    conversations: int
    handed_off: int  # of them, with at least one hand-off


@dataclass(frozen=True, slots=True)
class SelfServiceCount:
    """Questions the bot answered with an article, per channel of the conversation."""

    channel: str
    answered: int
    # Of them: the customer did not press "No", and neither opened a new conversation nor
    # requested a hand-off within 7 days after the answer.
    resolved: int


@dataclass(frozen=True, slots=True)
class ArticleCount:
    article_id: str
    asked: int
    helpful: int
    not_helpful: int


@dataclass(frozen=True, slots=True)
class UnansweredQuestion:
    question: str
    language: str


@dataclass(frozen=True, slots=True)
class RetentionCount:
    origin_funnel_id: str | None  # the contact's first funnel; None: never in a funnel
    contacts: int
    quiet: int


class ReportRepository(Protocol):
    async def funnel_step_counts(self, start: datetime, end: datetime) -> list[FunnelStepCount]:
        """Per funnel, variant and step, for the enrollments that entered in the period."""
        ...

    async def funnel_outcomes(self, start: datetime, end: datetime) -> list[FunnelOutcomeCount]: ...

    async def step_deliveries(self, start: datetime, end: datetime) -> list[StepDeliveryCount]:
        """Per funnel, step, delivery and reason, for the enrollments that entered in the
        period: what became of the messages their steps queued (the outbox rows linked to them)."""
        ...

    async def goal_timings(self, start: datetime, end: datetime) -> list[GoalTiming]: ...

    async def button_press_texts(self, since: datetime) -> list[str]:
        """The stored text of customers' funnel button presses at or after `since`
        (`[button] fn:<enrollment>:<step>:<value>`)."""
        ...

    async def enrollment_origins(
        self, enrollment_ids: list[int], start: datetime, end: datetime
    ) -> dict[int, EnrollmentOrigin]:
        """Those of `enrollment_ids` that entered in the period."""
        ...

    async def handoffs(self, start: datetime, end: datetime) -> list[HandoffFact]:
        """Hand-offs requested in the period, with the channel of their conversation."""
        ...

    async def survey_answers(self, start: datetime, end: datetime) -> list[SurveyFact]: ...

    async def conversations_by_channel(
        self, start: datetime, end: datetime
    ) -> list[ChannelConversations]:
        """Conversations opened in the period, per channel."""
        ...

    async def self_service(self, start: datetime, end: datetime) -> list[SelfServiceCount]: ...

    async def article_counts(self, start: datetime, end: datetime) -> list[ArticleCount]: ...

    async def unanswered_questions(
        self, start: datetime, end: datetime, limit: int
    ) -> list[UnansweredQuestion]:
        """Questions the bot had no answer for, newest first, at most `limit`."""
        ...

    async def retention(
        self, start: datetime, end: datetime, active_since: datetime
    ) -> list[RetentionCount]:
        """Contacts created in the period by first funnel; `quiet`: neither a message from
        them nor a paid order at or after `active_since`."""
        ...


class ReportUnitOfWork(UnitOfWork, Protocol):
    """`UnitOfWork` with the report queries: what `ReportService` reads through."""

    reports: ReportRepository

    async def __aenter__(self) -> ReportUnitOfWork: ...
