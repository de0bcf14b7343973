"""The `survey_responses` table (`bot.domain.surveys`), on the schema's shared `metadata`.

Kept beside `tables.py` rather than in it so the surveys arrive as one piece; importing
`bot.storage.uow` (as everything that opens storage does) registers it, and the migration
test compares it with migration 0008 like every other table.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.storage.tables import metadata
from bot.storage.types import Id, UTCDateTime

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", Id, primary_key=True),
    Column("survey_id", String(128), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id")),
    Column("handoff_id", Id, ForeignKey("handoffs.id")),
    Column("agent_id", Id, ForeignKey("agents.id")),
    Column("team", String(64)),
    Column("funnel_id", String(128)),
    Column("enrollment_id", Id, ForeignKey("enrollments.id")),
    Column("language", String(16)),
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("score", Integer),
    Column("comment", Text),
    Column("low_score", Boolean, nullable=False),
    Column("awaiting_comment", Boolean, nullable=False),
    Column("follow_up_pending", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime()),
    Column("commented_at", UTCDateTime()),
    Column("reopened_at", UTCDateTime()),
    Column("reopened_by", Id, ForeignKey("agents.id")),
    # A hand-off is surveyed once, and so is an enrollment: a close or a funnel batch handled
    # twice stores nothing new (ON CONFLICT DO NOTHING). NULLs never collide.
    UniqueConstraint("survey_id", "handoff_id"),
    UniqueConstraint("survey_id", "enrollment_id"),
    # The throttle (a contact's surveys since a moment) and the wait for a comment.
    Index("ix_survey_responses_contact_id_sent_at", "contact_id", "sent_at"),
    # The expiry sweep: sent (or awaiting a comment) and past expires_at.
    Index("ix_survey_responses_status_expires_at", "status", "expires_at"),
    # "Was this conversation surveyed already".
    Index("ix_survey_responses_conversation_id", "conversation_id"),
    # Reports: per survey, per agent, per team over a period.
    Index("ix_survey_responses_survey_id_answered_at", "survey_id", "answered_at"),
    Index("ix_survey_responses_agent_id_answered_at", "agent_id", "answered_at"),
    # Reports: every answer of a period, whatever the survey (CSAT and NPS, their trends).
    Index("ix_survey_responses_answered_at", "answered_at"),
    sqlite_autoincrement=True,
)
