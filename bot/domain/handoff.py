"""The human side of a conversation: agents, hand-offs, what happened and who did it.

A hand-off is one spell of a conversation in human hands: it is requested (by the customer,
a failed answer, a complaint, a tag, a funnel), waits in a queue, is offered to an agent, taken,
and finally closed or given back to the bot. Every step is also written as a
`ConversationEvent`, which is both the audit trail ("who did what when") and the feed the
agent desk and the console follow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class AgentRole(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(slots=True)
class Agent:
    """A person who answers customers (from `config.yaml` or added with `nudge agents`)."""

    id: int
    key: str  # stable handle, e.g. "alice": config entries are matched on it
    name: str
    role: AgentRole = AgentRole.AGENT
    telegram_user_id: int | None = None
    languages: list[str] = field(default_factory=list)  # empty: any language
    teams: list[str] = field(default_factory=list)  # empty: the default team only
    max_chats: int = 5
    trainee: bool = False  # replies wait for a supervisor's approval
    active: bool = True  # False: not offered new chats (away, left the company)
    password_hash: str | None = None  # console login; None: no console access
    last_assigned_at: datetime | None = None  # round robin among equally busy agents

    @property
    def is_supervisor(self) -> bool:
        return self.role is AgentRole.SUPERVISOR


class HandoffReason(enum.StrEnum):
    CUSTOMER_ASKED = "customer_asked"  # button, /human, "operator"
    BOT_FAILED = "bot_failed"  # no answer twice in a row
    NOT_HELPFUL = "not_helpful"  # "No" on "Did this help?"
    COMPLAINT = "complaint"  # strong negative wording
    TAG = "tag"  # a contact tag such as vip
    FUNNEL = "funnel"  # a funnel step of kind handoff
    AGENT = "agent"  # a supervisor pulled the chat in


class HandoffStatus(enum.StrEnum):
    QUEUED = "queued"  # no agent yet (none free, or outside working hours)
    OFFERED = "offered"  # assigned to an agent who has not taken it yet
    ACTIVE = "active"  # an agent holds the chat: the bot is quiet
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self is not HandoffStatus.CLOSED


class CloseReason(enum.StrEnum):
    CLOSED = "closed"  # the agent closed the conversation
    BACK_TO_BOT = "back_to_bot"  # the agent gave the chat back, conversation stays open
    IDLE = "idle"  # nobody wrote for the configured idle time
    CUSTOMER_LEFT = "customer_left"  # blocked the bot / opted out of everything


@dataclass(slots=True)
class Handoff:
    id: int
    conversation_id: int
    contact_id: int
    team: str
    language: str
    reason: HandoffReason
    status: HandoffStatus
    priority: int  # higher goes first: complaints and VIPs
    requested_at: datetime
    sla_due_at: datetime | None = None  # first response expected by then
    agent_id: int | None = None
    offered_at: datetime | None = None
    offer_expires_at: datetime | None = None
    declined_by: list[int] = field(default_factory=list)  # agents whose offer timed out
    taken_at: datetime | None = None
    first_response_at: datetime | None = None
    sla_breached_at: datetime | None = None
    last_activity_at: datetime | None = None  # last message either way, for the idle close
    closed_at: datetime | None = None
    closed_by: int | None = None  # agent id; None when the system closed it
    close_reason: CloseReason | None = None
    desk_chat_id: int | None = None  # agents' group where its topic lives
    desk_thread_id: int | None = None  # forum topic id (None in a non-forum group)
    desk_title: str | None = None  # the topic title as last set, to edit only on change
    summary: str | None = None  # why it was handed off, in a line, for the agent


class EventKind(enum.StrEnum):
    """What happened in a conversation while people were involved."""

    HANDOFF_REQUESTED = "handoff_requested"
    OFFERED = "offered"
    OFFER_EXPIRED = "offer_expired"
    TAKEN = "taken"
    TRANSFERRED = "transferred"
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_MESSAGE = "agent_message"
    NOTE = "note"  # internal, never sent to the customer
    REPLY_HELD = "reply_held"  # a trainee's reply waits for approval
    REPLY_APPROVED = "reply_approved"
    REPLY_REJECTED = "reply_rejected"
    SLA_BREACHED = "sla_breached"
    CLOSED = "closed"
    RETURNED_TO_BOT = "returned_to_bot"
    LOW_SCORE = "low_score"  # a survey answer at or below its low_score: supervisors follow up


@dataclass(slots=True)
class ConversationEvent:
    id: int
    conversation_id: int
    kind: EventKind
    at: datetime
    handoff_id: int | None = None
    agent_id: int | None = None  # who did it (None: the customer, the bot or the system)
    text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class HeldReplyStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(slots=True)
class HeldReply:
    """A trainee's reply waiting for a supervisor: approve (maybe edited) or reject."""

    id: int
    handoff_id: int
    conversation_id: int
    agent_id: int
    text: str
    status: HeldReplyStatus
    created_at: datetime
    decided_by: int | None = None
    decided_at: datetime | None = None
    final_text: str | None = None  # what was sent: the text, or the supervisor's edit
