"""The database schema as SQLAlchemy Core tables.

This is the source of truth that Alembic's autogenerate compares against; the migrations in
`migrations/versions/` are written by hand to produce exactly this schema (a test checks it).

Enum-like columns (status, channel, kind, ...) are plain strings holding the domain enum values:
native enum types would need a migration for every new status on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
)

from bot.storage.types import Id, Json, UTCDateTime

# Deterministic constraint names: Alembic can only drop or alter a constraint it can name, and
# the names must be the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# `sqlite_autoincrement=True` (AUTOINCREMENT on SQLite): ids of deleted rows (e.g. a contact
# removed by a merge) are never handed out again, so an id seen in a log or a link always means
# the same row.

# Contact references use the default NO ACTION: deleting a contact that still owns rows is a
# bug (merge moves them first), and failing loudly beats cascading away a message history.

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("display_name", String(255), nullable=False),
    Column("language", String(16)),
    Column("timezone", String(64)),
    Column("opted_out", Boolean, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("start_payload", String(255)),
    Column("attributes", Json, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # The identifiers a shop knows the customer by (Events API). Unique indexes rather than
    # constraints: SQLite cannot add a constraint to an existing table, and NULLs are distinct
    # in a unique index on both databases, so contacts without them never collide.
    Column("external_id", String(255)),
    Column("phone", String(32)),
    Column("email", String(320)),
    Index("ix_contacts_external_id", "external_id", unique=True),
    Index("ix_contacts_phone", "phone", unique=True),
    Index("ix_contacts_email", "email", unique=True),
    # Reports: contacts created in a period (retention).
    Index("ix_contacts_created_at", "created_at"),
    sqlite_autoincrement=True,
)

channel_identities = Table(
    "channel_identities",
    metadata,
    Column("id", Id, primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("address", String(255), nullable=False),
    Column("username", String(255)),
    Column("blocked", Boolean, nullable=False),
    UniqueConstraint("channel", "external_id"),
    Index("ix_channel_identities_contact_id", "contact_id"),
    sqlite_autoincrement=True,
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    # "the open conversation of this contact" is looked up on every inbound message.
    Index("ix_conversations_contact_id_status", "contact_id", "status"),
    # Reports: conversations opened in a period (hand-off rate, customers coming back).
    Index("ix_conversations_opened_at", "opened_at"),
    sqlite_autoincrement=True,
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True),
    Column("key", String(255), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("channel", String(32), nullable=False),
    Column("address", String(255), nullable=False),
    Column("thread_id", Id),
    Column("text", Text, nullable=False),
    Column("buttons", Json, nullable=False),
    Column("kind", String(32), nullable=False),
    # From the kind (OutboundKind.priority): replies before surveys before marketing.
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("status", String(32), nullable=False),
    Column("not_before", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("reason", Text),
    Column("channel_message_id", String(255)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    # The worker holding a SENDING row and until when (migration 0010): only an expired lease
    # means its worker died, and only then is the row settled as "unknown" by another.
    Column("claimed_by", String(128)),
    Column("lease_until", UTCDateTime()),
    # The funnel step a row was sent for (migration 0012), NULL for every other message: the
    # funnel report counts what became of each step's messages (delivered, failed, ...).
    Column("enrollment_id", Id, ForeignKey("enrollments.id", ondelete="SET NULL")),
    Column("step_id", String(128)),
    UniqueConstraint("key"),
    # The dispatcher's claim: WHERE status = 'pending' AND not_before <= now
    # ORDER BY priority, id. Walking pending rows in that order and filtering on not_before stops
    # after LIMIT rows; an index led by not_before would sort every due row of a backlog.
    Index("ix_outbox_status_priority_id", "status", "priority", "id"),
    # Suppression on opt-out / block: the pending rows of one contact.
    Index("ix_outbox_contact_id_status", "contact_id", "status"),
    # The claim skips chats another worker is sending to (their SENDING rows).
    Index("ix_outbox_channel_address_status", "channel", "address", "status"),
    sqlite_autoincrement=True,
)

# Reports: the outcome of each funnel step's messages, found per enrollment of the cohort and
# read from the index alone (status included). Partial: replies and agents' messages (most
# rows) are not in it and cost it nothing.
_FUNNEL_STEP_ROW = outbox.c.enrollment_id.is_not(None)
Index(
    "ix_outbox_enrollment_id_step_id_status",
    outbox.c.enrollment_id,
    outbox.c.step_id,
    outbox.c.status,
    sqlite_where=_FUNNEL_STEP_ROW,
    postgresql_where=_FUNNEL_STEP_ROW,
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("sender", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("channel_message_id", String(255)),
    Column("outbox_id", Id, ForeignKey("outbox.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime(), nullable=False),
    # History: the latest N messages of a contact across conversations.
    Index("ix_messages_contact_id_id", "contact_id", "id"),
    Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    Index("ix_messages_outbox_id", "outbox_id"),
    # The funnel scans walk our messages (stalled) or the customers' (quiet) in time order from
    # a stored position: WHERE direction = ? AND created_at in a window ORDER BY created_at, id.
    Index("ix_messages_direction_created_at_id", "direction", "created_at", "id"),
    # Reports: "did this contact write since ..." (retention), one probe per contact.
    Index("ix_messages_contact_id_direction_created_at", "contact_id", "direction", "created_at"),
    sqlite_autoincrement=True,
)

# Reports: customers' funnel button presses ("[button] fn:<enrollment>:<step>:<value>", 2 % of
# their messages) by time; partial, so it holds those rows only and costs nothing on the others.
_FUNNEL_BUTTON = messages.c.text.like(literal_column("'[button] fn:%'"))
Index(
    "ix_messages_funnel_button_created_at",
    messages.c.created_at,
    sqlite_where=_FUNNEL_BUTTON,
    postgresql_where=_FUNNEL_BUTTON,
)

inbound_updates = Table(
    "inbound_updates",
    metadata,
    Column("id", Id, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("external_key", String(255), nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(32), nullable=False),
    Column("error", Text),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("processed_at", UTCDateTime()),
    # One chat's updates are handled by one worker at a time, in order (migration 0010).
    Column("conversation_key", String(255)),
    UniqueConstraint("channel", "external_key"),
    Index("ix_inbound_updates_status_id", "status", "id"),
    sqlite_autoincrement=True,
)

kb_interactions = Table(
    "kb_interactions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("question", Text, nullable=False),
    Column("language", String(16), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("article_id", String(255)),
    Column("score", Float),
    Column("candidates", Json, nullable=False),
    Column("helpful", Boolean),
    Column("feedback_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    # "Did this help?" looks up the conversation's latest questions; reports go by period.
    Index("ix_kb_interactions_conversation_id_id", "conversation_id", "id"),
    Index("ix_kb_interactions_created_at", "created_at"),
    sqlite_autoincrement=True,
)

# --- the human hand-off (`bot.domain.handoff`) ---------------------------------------------------

agents = Table(
    "agents",
    metadata,
    Column("id", Id, primary_key=True),
    Column("key", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("telegram_user_id", BigInteger),
    Column("languages", Json, nullable=False),
    Column("teams", Json, nullable=False),
    Column("max_chats", Integer, nullable=False),
    Column("trainee", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("password_hash", String(255)),
    Column("last_assigned_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Config entries are matched on the key (the upsert's ON CONFLICT target).
    UniqueConstraint("key"),
    # Every desk action looks the agent up by the Telegram user who pressed; NULLs are distinct
    # in a unique index on both databases, so agents without Telegram do not collide.
    Index("ix_agents_telegram_user_id", "telegram_user_id", unique=True),
    sqlite_autoincrement=True,
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("team", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("sla_due_at", UTCDateTime()),
    Column("agent_id", Id, ForeignKey("agents.id")),
    Column("offered_at", UTCDateTime()),
    Column("offer_expires_at", UTCDateTime()),
    Column("declined_by", Json, nullable=False),
    Column("taken_at", UTCDateTime()),
    Column("first_response_at", UTCDateTime()),
    Column("sla_breached_at", UTCDateTime()),
    Column("last_activity_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("closed_by", Id, ForeignKey("agents.id")),
    Column("close_reason", String(32)),
    # Telegram chat ids of supergroups exceed 32 bits (-100...).
    Column("desk_chat_id", BigInteger),
    Column("desk_thread_id", BigInteger),
    Column("desk_title", String(255)),
    Column("summary", Text),
    # "Is a person holding this conversation?" is asked on every inbound message.
    Index("ix_handoffs_conversation_id_status", "conversation_id", "status"),
    # The queue: WHERE status = ... ORDER BY priority DESC, requested_at, id.
    Index(
        "ix_handoffs_status_priority_requested_at_id", "status", "priority", "requested_at", "id"
    ),
    # The timers' sweeps: offers that expired, SLAs that ran out, chats gone quiet.
    Index("ix_handoffs_status_offer_expires_at", "status", "offer_expires_at"),
    Index("ix_handoffs_status_sla_due_at", "status", "sla_due_at"),
    Index("ix_handoffs_status_last_activity_at", "status", "last_activity_at"),
    # The console's "recently closed": without it every closed hand-off ever would be sorted.
    Index("ix_handoffs_status_closed_at", "status", "closed_at"),
    # A message an agent writes in a forum topic finds its hand-off through the topic.
    Index("ix_handoffs_desk_chat_id_desk_thread_id", "desk_chat_id", "desk_thread_id"),
    # An agent's open chats, and the per-agent load the assignment counts.
    Index("ix_handoffs_agent_id_status", "agent_id", "status"),
    # Reports: hand-offs requested in a period (response times, SLA, resolution).
    Index("ix_handoffs_requested_at", "requested_at"),
    # Reports: "did this customer ask for a person again within 7 days", one probe per row.
    Index("ix_handoffs_contact_id_requested_at", "contact_id", "requested_at"),
    sqlite_autoincrement=True,
)

conversation_events = Table(
    "conversation_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("handoff_id", Id, ForeignKey("handoffs.id")),
    Column("kind", String(32), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("agent_id", Id, ForeignKey("agents.id")),
    Column("text", Text),
    Column("data", Json, nullable=False),
    # A conversation's history; the feed itself (`after`) walks the primary key.
    Index("ix_conversation_events_conversation_id_id", "conversation_id", "id"),
    sqlite_autoincrement=True,
)

held_replies = Table(
    "held_replies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("handoff_id", Id, ForeignKey("handoffs.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("agent_id", Id, ForeignKey("agents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_by", Id, ForeignKey("agents.id")),
    Column("decided_at", UTCDateTime()),
    Column("final_text", Text),
    # Supervisors' list of replies waiting: WHERE status = 'pending' ORDER BY id.
    Index("ix_held_replies_status_id", "status", "id"),
    sqlite_autoincrement=True,
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- the Events API and outbound webhooks (`bot.domain.events`) ----------------------------------

api_events = Table(
    "api_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("key", String(255), nullable=False),
    Column("type", String(128), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("data", Json, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("processed_at", UTCDateTime()),
    # The sender's event id: a repeat is skipped with ON CONFLICT DO NOTHING.
    UniqueConstraint("key"),
    # The consumer's claim: WHERE status = 'pending' ORDER BY id.
    Index("ix_api_events_status_id", "status", "id"),
    # A contact's events (funnel conditions, merges).
    Index("ix_api_events_contact_id", "contact_id"),
    # The win-back scan walks paid orders in time order: WHERE type = 'order_paid' AND
    # occurred_at in a window ORDER BY occurred_at, id.
    Index("ix_api_events_type_occurred_at_id", "type", "occurred_at", "id"),
    # Reports: "did this contact pay an order since ..." (retention), one probe per contact.
    Index("ix_api_events_contact_id_type_occurred_at", "contact_id", "type", "occurred_at"),
    sqlite_autoincrement=True,
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("event_key", String(255), nullable=False),
    Column("endpoint", String(1024), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    # When a PENDING row is due, or when the lease of a SENDING row runs out.
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    # One delivery per event and endpoint, however often the event is published.
    UniqueConstraint("event_key", "endpoint"),
    # The dispatcher's claim: WHERE status IN (...) AND next_attempt_at <= now.
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    sqlite_autoincrement=True,
)

# --- funnels (`bot.domain.funnel`, `bot.funnel`) ------------------------------------------------

# A contact's way through one funnel. Closed rows keep their story (reports, re-entry) and have
# no due_at, so the claim's index range never reaches them.
enrollments = Table(
    "enrollments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("funnel_id", String(128), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("step_id", String(128)),
    Column("resume_step_id", String(128)),
    Column("due_at", UTCDateTime()),
    # The due_at a claim found, set by the claim itself (`SET claimed_due_at = due_at`) so the
    # engine can tell how late the step is although due_at now holds the lease. Storage only.
    Column("claimed_due_at", UTCDateTime()),
    Column("waiting_since", UTCDateTime()),
    Column("event", Json, nullable=False),
    Column("variables", Json, nullable=False),
    Column("variant", String(64)),
    Column("entered_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Column("end_reason", Text),
    Column("version", Integer, nullable=False),
    # The claim: WHERE due_at <= now AND status IN (open) ORDER BY due_at, id LIMIT n. Led by
    # due_at, the walk is in claim order and stops after n rows; led by status, the two open
    # statuses are two ranges whose due rows would all be sorted before the LIMIT.
    Index("ix_enrollments_due_at_id", "due_at", "id"),
    # "Is this contact in this funnel, was it ever" (re-entry) and a contact's open ones.
    Index("ix_enrollments_contact_id_funnel_id", "contact_id", "funnel_id"),
    # Reports and counts per funnel and status.
    Index("ix_enrollments_funnel_id_status", "funnel_id", "status"),
    # Reports: the funnel cohort, enrollments that entered in a period.
    Index("ix_enrollments_entered_at", "entered_at"),
    sqlite_autoincrement=True,
)

# Codes handed out by `coupon` steps: loaded per pool, each given to one contact at most.
coupon_codes = Table(
    "coupon_codes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("pool", String(128), nullable=False),
    Column("code", String(255), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id")),
    Column("assigned_at", UTCDateTime()),
    # A code loaded twice is skipped with ON CONFLICT DO NOTHING.
    UniqueConstraint("pool", "code"),
    # Both lookups of `assign`: the contact's code in the pool, and the free codes
    # (contact_id IS NULL) in id order; `remaining` counts the latter.
    Index("ix_coupon_codes_pool_contact_id_id", "pool", "contact_id", "id"),
    sqlite_autoincrement=True,
)

# Every step of every enrollment: reports, the frequency cap and the enrollment's story.
funnel_log = Table(
    "funnel_log",
    metadata,
    Column("id", Id, primary_key=True),
    Column("enrollment_id", Id, ForeignKey("enrollments.id"), nullable=False),
    Column("funnel_id", String(128), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("step_id", String(128)),
    Column("kind", String(16), nullable=False),
    Column("detail", Text),
    Column("variant", String(64)),
    Column("at", UTCDateTime(), nullable=False),
    # The frequency cap: a contact's `sent` rows since a moment.
    Index("ix_funnel_log_contact_id_kind_at", "contact_id", "kind", "at"),
    # Reports per funnel and period.
    Index("ix_funnel_log_funnel_id_at", "funnel_id", "at"),
    # One enrollment's story, in order.
    Index("ix_funnel_log_enrollment_id_id", "enrollment_id", "id"),
    sqlite_autoincrement=True,
)

# --- privacy (`bot.privacy`) --------------------------------------------------------------------

# One line per export or forget: who asked and when, never what was in the data. No foreign key:
# a merge deletes the contact it merges away, and the audit of that contact must survive it.
privacy_audit = Table(
    "privacy_audit",
    metadata,
    Column("id", Id, primary_key=True),
    Column("action", String(16), nullable=False),
    Column("contact_id", Id, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    # "Was this contact exported or forgotten, by whom": the audit of one person.
    Index("ix_privacy_audit_contact_id", "contact_id"),
    sqlite_autoincrement=True,
)

# --- scale-out (`bot.scheduling.leader`) ----------------------------------------------------------

# A named lease for work that runs once per cluster: the holder renews it before `expires_at`;
# when it stops renewing (its process died), another worker takes it over.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
