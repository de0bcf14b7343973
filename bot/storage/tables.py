"""The database schema as SQLAlchemy Core tables.

This is the source of truth that Alembic's autogenerate compares against; the migrations in
`migrations/versions/` are written by hand to produce exactly this schema (a test checks it).

Enum-like columns (status, channel, kind, ...) are plain strings holding the domain enum values:
native enum types would need a migration for every new status on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
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
    UniqueConstraint("key"),
    # The dispatcher's claim: WHERE status = 'pending' AND not_before <= now
    # ORDER BY priority, id. Walking pending rows in that order and filtering on not_before stops
    # after LIMIT rows; an index led by not_before would sort every due row of a backlog.
    Index("ix_outbox_status_priority_id", "status", "priority", "id"),
    # Suppression on opt-out / block: the pending rows of one contact.
    Index("ix_outbox_contact_id_status", "contact_id", "status"),
    sqlite_autoincrement=True,
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
    sqlite_autoincrement=True,
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

settings = Table(
    "settings",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)
