"""The ports services need, as Protocols. Storage and channels implement them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the repositories of the feature modules, for `UnitOfWork` below
    from bot.domain.event_ports import ApiEventRepository, WebhookDeliveryRepository
    from bot.domain.funnel_ports import (
        CouponRepository,
        EnrollmentRepository,
        FunnelLogRepository,
    )
    from bot.domain.scan_ports import FunnelScanRepository
    from bot.domain.survey_ports import SurveyResponseRepository
from bot.domain.handoff import (
    Agent,
    ConversationEvent,
    EventKind,
    Handoff,
    HandoffStatus,
    HeldReply,
    HeldReplyStatus,
)
from bot.domain.model import (
    Channel,
    ChannelIdentity,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    InboundUpdate,
    KbDecisionKind,
    KbInteraction,
    Message,
    NewMessage,
    OutboundDraft,
    OutboundMessage,
    OutboxStatus,
    Sender,
)


class ContactRepository(Protocol):
    async def get(self, contact_id: int) -> Contact | None: ...

    async def get_many(self, contact_ids: Iterable[int]) -> dict[int, Contact]: ...

    async def create(self, display_name: str, language: str | None) -> Contact: ...

    async def update(self, contact: Contact) -> None: ...

    async def merge_into(self, source_id: int, target_id: int) -> None:
        """Move every identity, conversation, message and outbox row of `source` to `target`,
        then delete `source`."""
        ...

    # By the identifiers a shop knows a contact by (each unique when set): the Events API.
    async def find_by_external_id(self, external_id: str) -> Contact | None: ...

    async def find_by_phone(self, phone: str) -> Contact | None:
        """`phone` normalised (`+` and digits)."""
        ...

    async def find_by_email(self, email: str) -> Contact | None:
        """`email` normalised (lower-case)."""
        ...

    async def create_identified(
        self,
        display_name: str,
        external_id: str | None,
        phone: str | None,
        email: str | None,
    ) -> Contact | None:
        """A new contact holding these identifiers; None (nothing stored) when another contact
        holds one of them already, e.g. one created by a concurrent request."""
        ...


class IdentityRepository(Protocol):
    async def find(self, channel: Channel, external_id: str) -> ChannelIdentity | None: ...

    async def add(
        self,
        contact_id: int,
        channel: Channel,
        external_id: str,
        address: str,
        username: str | None,
    ) -> ChannelIdentity: ...

    async def update(self, identity: ChannelIdentity) -> None: ...

    async def for_contact(self, contact_id: int) -> list[ChannelIdentity]: ...

    async def for_contacts(self, contact_ids: Iterable[int]) -> dict[int, list[ChannelIdentity]]:
        """`for_contact` of many contacts at once (a contact without identities is left out)."""
        ...


class ConversationRepository(Protocol):
    async def get(self, conversation_id: int) -> Conversation | None: ...

    async def open_for_contact(self, contact_id: int) -> Conversation | None:
        """The contact's conversation that is not closed, if any."""
        ...

    async def open_for_contacts(self, contact_ids: Iterable[int]) -> dict[int, Conversation]:
        """`open_for_contact` of many contacts at once (one without an open one is left out)."""
        ...

    async def create(self, contact_id: int, channel: Channel, at: datetime) -> Conversation: ...

    async def set_status(
        self, conversation_id: int, status: ConversationStatus, at: datetime
    ) -> None: ...

    async def touch(self, conversation_id: int, channel: Channel, at: datetime) -> None: ...


class MessageRepository(Protocol):
    async def add(
        self,
        conversation_id: int,
        contact_id: int,
        direction: Direction,
        sender: Sender,
        channel: Channel,
        text: str,
        at: datetime,
        channel_message_id: str | None = None,
        outbox_id: int | None = None,
    ) -> Message: ...

    async def add_many(self, new: Sequence[NewMessage]) -> None:
        """`add` for many messages at once, stored in their order (their ids grow with it)."""
        ...

    async def history(self, contact_id: int, limit: int = 50) -> list[Message]:
        """The contact's latest messages, oldest first."""
        ...

    async def set_channel_message_id(self, outbox_id: int, channel_message_id: str) -> None: ...

    async def set_channel_message_ids(self, sent: Sequence[tuple[int, str]]) -> None:
        """`set_channel_message_id` for many (outbox id, channel message id) pairs at once."""
        ...


class OutboxRepository(Protocol):
    async def add(self, draft: OutboundDraft, at: datetime) -> OutboundMessage | None:
        """Store a row; None when a row with the same key exists (nothing is stored twice)."""
        ...

    async def add_many(self, drafts: Sequence[tuple[OutboundDraft, datetime]]) -> dict[str, int]:
        """`add` for many (draft, time) pairs in one statement, stored in their order: the new
        row id by key of the drafts stored now (a key already stored is left out)."""
        ...

    async def get(self, outbox_id: int) -> OutboundMessage | None: ...

    async def get_by_key(self, key: str) -> OutboundMessage | None: ...

    async def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        worker: str | None = None,
        lease_until: datetime | None = None,
    ) -> list[OutboundMessage]:
        """Pending rows due at `now`, oldest first, switched to SENDING for `worker` until
        `lease_until`; chats another worker is sending to are skipped."""
        ...

    async def finish(
        self,
        outbox_id: int,
        status: OutboxStatus,
        at: datetime,
        reason: str | None = None,
        channel_message_id: str | None = None,
    ) -> None: ...

    async def mark_sent_many(self, sent: Sequence[tuple[int, str]], at: datetime) -> None:
        """`finish(..., SENT, ...)` for many (outbox id, channel message id) pairs, in one
        round trip: recording a batch row by row made the database's latency the limit."""
        ...

    async def reschedule(
        self, outbox_id: int, not_before: datetime, reason: str | None, attempt: bool
    ) -> None:
        """Put a SENDING row back to PENDING for later; `attempt` counts a failed try."""
        ...

    async def suppress_pending_for_contact(
        self, contact_id: int, reason: str, at: datetime, marketing_only: bool
    ) -> int: ...

    async def mark_stale_sending_unknown(self, at: datetime) -> int:
        """Rows left SENDING by a process that died (their lease ended by `at`): outcome
        unknown."""
        ...

    async def count_by_status(self) -> dict[OutboxStatus, int]: ...


class InboundRepository(Protocol):
    async def add(
        self,
        channel: Channel,
        external_key: str,
        payload: dict[str, Any],
        at: datetime,
        *,
        conversation_key: str | None = None,
    ) -> InboundUpdate | None:
        """Store an update; None when this (channel, key) was stored before. Updates with one
        `conversation_key` (the customer they come from) are handled in order, one at a time."""
        ...

    async def claim_pending(self, limit: int) -> list[InboundUpdate]: ...

    async def mark(
        self, update_id: int, processed: bool, error: str | None, at: datetime
    ) -> None: ...


class KbInteractionRepository(Protocol):
    async def add(
        self,
        contact_id: int,
        conversation_id: int,
        question: str,
        language: str,
        decision: KbDecisionKind,
        article_id: str | None,
        score: float | None,
        candidates: list[tuple[str, float]],
        at: datetime,
    ) -> KbInteraction: ...

    async def get(self, interaction_id: int) -> KbInteraction | None: ...

    async def set_feedback(self, interaction_id: int, helpful: bool, at: datetime) -> bool:
        """Record "did this help?"; False when there is no such interaction."""
        ...

    async def recent_for_conversation(
        self, conversation_id: int, limit: int = 5
    ) -> list[KbInteraction]:
        """The conversation's latest interactions, newest first."""
        ...


class AgentRepository(Protocol):
    async def get(self, agent_id: int) -> Agent | None: ...

    async def get_by_key(self, key: str) -> Agent | None: ...

    async def get_by_telegram_user(self, telegram_user_id: int) -> Agent | None: ...

    async def list_all(self, active_only: bool = False) -> list[Agent]:
        """Agents ordered by id."""
        ...

    async def upsert(self, agent: Agent) -> Agent:
        """Insert, or update the agent with the same key (its id and password hash are kept;
        `agent.id` is ignored); returns the stored agent."""
        ...

    async def set_password_hash(self, agent_id: int, password_hash: str | None) -> None: ...

    async def set_active(self, agent_id: int, active: bool) -> None: ...

    async def mark_assigned(self, agent_id: int, at: datetime) -> None:
        """Remember when the agent was last given a chat (round robin)."""
        ...

    async def open_chat_counts(self) -> dict[int, int]:
        """Agent id -> number of hand-offs OFFERED to or ACTIVE with them."""
        ...


class HandoffRepository(Protocol):
    async def add(self, handoff: Handoff) -> Handoff:
        """Store a new hand-off (`handoff.id` is ignored); returns it with its id."""
        ...

    async def get(self, handoff_id: int) -> Handoff | None: ...

    async def open_for_conversation(self, conversation_id: int) -> Handoff | None:
        """The conversation's hand-off that is not closed, if any."""
        ...

    async def latest_for_conversation(self, conversation_id: int) -> Handoff | None: ...

    async def by_desk_thread(self, chat_id: int, thread_id: int) -> Handoff | None:
        """The latest hand-off whose topic is (`chat_id`, `thread_id`), open or closed."""
        ...

    async def update(self, handoff: Handoff) -> None:
        """Write every field of `handoff` back."""
        ...

    async def transition(
        self, handoff_id: int, expected: tuple[HandoffStatus, ...], handoff: Handoff
    ) -> bool:
        """Write `handoff` only if the stored status is still one of `expected`.

        The compare-and-set two agents pressing Take at once race on: exactly one wins.
        """
        ...

    async def open(self, limit: int = 500) -> list[Handoff]:
        """Open hand-offs: highest priority first, then oldest request first."""
        ...

    async def open_for_agent(self, agent_id: int) -> list[Handoff]: ...

    async def queued(self, limit: int = 100) -> list[Handoff]:
        """QUEUED hand-offs, highest priority first, then oldest."""
        ...

    async def offers_expired(self, now: datetime, limit: int = 100) -> list[Handoff]:
        """OFFERED hand-offs whose offer expired at or before `now`."""
        ...

    async def sla_breaches_due(self, now: datetime, limit: int = 100) -> list[Handoff]:
        """Open hand-offs with no first response, past their SLA, not yet marked breached."""
        ...

    async def idle_since(self, before: datetime, limit: int = 100) -> list[Handoff]:
        """ACTIVE hand-offs whose last activity is at or before `before`."""
        ...

    async def recent_closed(self, limit: int = 50) -> list[Handoff]:
        """Closed hand-offs, latest closed first."""
        ...


class ConversationEventRepository(Protocol):
    async def add(
        self,
        conversation_id: int,
        kind: EventKind,
        at: datetime,
        handoff_id: int | None = None,
        agent_id: int | None = None,
        text: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> ConversationEvent: ...

    async def after(self, event_id: int, limit: int = 100) -> list[ConversationEvent]:
        """Events with a greater id, oldest first (the desk and the console follow this)."""
        ...

    async def for_conversation(
        self, conversation_id: int, limit: int = 200
    ) -> list[ConversationEvent]:
        """The conversation's latest events, oldest first."""
        ...

    async def last_id(self) -> int:
        """The greatest event id, 0 when there is none."""
        ...


class HeldReplyRepository(Protocol):
    async def add(
        self, handoff_id: int, conversation_id: int, agent_id: int, text: str, at: datetime
    ) -> HeldReply: ...

    async def get(self, held_id: int) -> HeldReply | None: ...

    async def pending(self, limit: int = 100) -> list[HeldReply]:
        """Replies waiting for approval, oldest first."""
        ...

    async def decide(
        self,
        held_id: int,
        status: HeldReplyStatus,
        decided_by: int,
        at: datetime,
        final_text: str | None,
    ) -> bool:
        """Record the decision if the reply is still PENDING; False when someone was first."""
        ...


class KeyValueRepository(Protocol):
    """Small durable settings: the Telegram polling offset, link tokens."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str) -> None: ...

    async def delete(self, key: str) -> None: ...


class LeaseRepository(Protocol):
    """Named leases for work that runs once per cluster (see `bot.scheduling.leader`)."""

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew `name` for `holder` until `until`; False while another holds it."""
        ...

    async def release(self, name: str, holder: str) -> bool: ...

    async def holder(self, name: str, at: datetime) -> str | None: ...


class UnitOfWork(Protocol):
    """One transaction: commits on `commit()`, rolls back on leaving without it."""

    contacts: ContactRepository
    identities: IdentityRepository
    conversations: ConversationRepository
    messages: MessageRepository
    outbox: OutboxRepository
    inbound: InboundRepository
    settings: KeyValueRepository
    kb: KbInteractionRepository
    agents: AgentRepository
    handoffs: HandoffRepository
    events: ConversationEventRepository
    held_replies: HeldReplyRepository
    api_events: ApiEventRepository
    webhooks: WebhookDeliveryRepository
    enrollments: EnrollmentRepository
    coupons: CouponRepository
    funnel_log: FunnelLogRepository
    funnel_scans: FunnelScanRepository
    surveys: SurveyResponseRepository
    leases: LeaseRepository

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


# --- channels ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendOk:
    channel_message_id: str


@dataclass(frozen=True, slots=True)
class SendRetryAfter:
    """The channel asked us to slow down (Telegram 429)."""

    seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class SendTransientError:
    """Not delivered, safe to try again later (5xx, connection refused before sending)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SendBlocked:
    """The customer blocked the bot or left (Telegram 403)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SendRejected:
    """The channel refused this message for good (Telegram 400)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SendOutcomeUnknown:
    """The request went out and no answer came back: it may or may not have been delivered."""

    reason: str


SendResult = (
    SendOk | SendRetryAfter | SendTransientError | SendBlocked | SendRejected | SendOutcomeUnknown
)


class ChannelGateway(Protocol):
    """Sends one outbox row to its channel. Never raises for channel errors: returns a result."""

    channel: Channel
    max_text_length: int

    async def send(self, message: OutboundMessage) -> SendResult: ...
