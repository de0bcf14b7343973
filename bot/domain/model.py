"""The domain objects Nudge's services work on.

They are plain dataclasses: storage turns rows into them, channels turn updates into them,
and services never see a SQL row or a Telegram object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Channel(enum.StrEnum):
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"


class ConversationStatus(enum.StrEnum):
    BOT = "bot"
    WAITING_FOR_AGENT = "waiting_for_agent"
    WITH_AGENT = "with_agent"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Sender(enum.StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    UNKNOWN = "unknown"  # the request went out and no answer came back: never blindly repeated


class OutboundKind(enum.StrEnum):
    """Who produced an outbound message; marketing kinds are suppressed for opted-out contacts."""

    REPLY = "reply"
    AGENT = "agent"
    FUNNEL = "funnel"
    SURVEY = "survey"
    BROADCAST = "broadcast"
    SYSTEM = "system"

    @property
    def is_marketing(self) -> bool:
        return self in (OutboundKind.FUNNEL, OutboundKind.BROADCAST)

    @property
    def priority(self) -> int:
        """Lower goes first: a customer waiting for an answer must not wait behind a broadcast."""
        if self.is_marketing:
            return 2
        return 1 if self is OutboundKind.SURVEY else 0


class InboundStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


@dataclass(slots=True)
class Contact:
    id: int
    display_name: str
    language: str | None = None
    timezone: str | None = None
    opted_out: bool = False
    blocked: bool = False
    start_payload: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    # How a shop knows the customer (Events API); each unique among contacts when set.
    external_id: str | None = None
    phone: str | None = None  # normalised: "+" and digits
    email: str | None = None  # normalised: lower-case


@dataclass(slots=True)
class ChannelIdentity:
    """One way to reach a contact: a Telegram user, a web chat visitor, ..."""

    id: int
    contact_id: int
    channel: Channel
    external_id: str  # the user on the channel: Telegram user id, web chat visitor id
    address: str  # where to send: Telegram chat id, web chat visitor id
    username: str | None = None
    blocked: bool = False


@dataclass(slots=True)
class Conversation:
    id: int
    contact_id: int
    status: ConversationStatus
    channel: Channel
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


@dataclass(slots=True)
class Button:
    """An inline button: a URL to open or a callback with data."""

    text: str
    url: str | None = None
    callback_data: str | None = None


@dataclass(slots=True)
class Message:
    id: int
    conversation_id: int
    contact_id: int
    direction: Direction
    sender: Sender
    channel: Channel
    text: str
    created_at: datetime
    channel_message_id: str | None = None
    outbox_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to log, not stored yet: `MessageRepository.add_many` stores many at once."""

    conversation_id: int
    contact_id: int
    direction: Direction
    sender: Sender
    channel: Channel
    text: str
    at: datetime
    outbox_id: int | None = None


@dataclass(slots=True)
class OutboundDraft:
    """What a service wants to send; delivery turns it into one or more outbox rows."""

    key: str  # stable idempotency key: the same key never produces a second row
    contact_id: int
    channel: Channel
    address: str
    text: str
    kind: OutboundKind = OutboundKind.REPLY
    conversation_id: int | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    thread_id: int | None = None
    not_before: datetime | None = None
    # The funnel step this message is sent for (its enrollment and step id), else None: the
    # funnel report counts what became of each step's messages through them.
    enrollment_id: int | None = None
    step_id: str | None = None


@dataclass(slots=True)
class OutboundMessage:
    """One stored outbox row: exactly one send to a channel."""

    id: int
    key: str
    contact_id: int
    channel: Channel
    address: str
    text: str
    kind: OutboundKind
    status: OutboxStatus
    not_before: datetime
    created_at: datetime
    conversation_id: int | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    thread_id: int | None = None
    attempts: int = 0
    reason: str | None = None
    channel_message_id: str | None = None
    sent_at: datetime | None = None
    enrollment_id: int | None = None  # the funnel step it was sent for (see OutboundDraft)
    step_id: str | None = None


@dataclass(slots=True)
class InboundUpdate:
    """A raw update as received from a channel, stored before the channel is acknowledged."""

    id: int
    channel: Channel
    external_key: str  # e.g. Telegram update_id: a repeat has no second effect
    payload: dict[str, Any]
    status: InboundStatus
    received_at: datetime
    error: str | None = None


class KbDecisionKind(enum.StrEnum):
    """What the bot did with a customer's question."""

    ANSWERED = "answered"
    OFFERED_CHOICES = "offered_choices"
    NO_ANSWER = "no_answer"


@dataclass(slots=True)
class KbInteraction:
    """One question put to the knowledge base, the decision taken and the customer's feedback."""

    id: int
    contact_id: int
    conversation_id: int
    question: str
    language: str
    decision: KbDecisionKind
    created_at: datetime
    article_id: str | None = None
    score: float | None = None
    candidates: list[tuple[str, float]] = field(default_factory=list)
    helpful: bool | None = None
    feedback_at: datetime | None = None
