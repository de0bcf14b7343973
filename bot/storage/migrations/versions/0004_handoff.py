"""The human hand-off: agents, hand-offs, the conversation event feed, trainees' held replies.

Written by hand and frozen like 0001: constraint names follow the naming convention of
`tables.py`, and nothing from `bot.storage.tables` is imported.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
# Never reuse the ids of deleted rows on SQLite (see tables.py).
TABLE_OPTIONS: dict[str, Any] = {"sqlite_autoincrement": True}


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _fk(table: str, column: str, referred: str) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}"
    )


def _create_agents() -> None:
    op.create_table(
        "agents",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger()),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("teams", JSON, nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("trainee", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("last_assigned_at", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _pk("agents"),
        sa.UniqueConstraint("key", name="uq_agents_key"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_agents_telegram_user_id", "agents", ["telegram_user_id"], unique=True)


def _create_handoffs() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        sa.Column("sla_due_at", TIMESTAMP),
        sa.Column("agent_id", ID),
        sa.Column("offered_at", TIMESTAMP),
        sa.Column("offer_expires_at", TIMESTAMP),
        sa.Column("declined_by", JSON, nullable=False),
        sa.Column("taken_at", TIMESTAMP),
        sa.Column("first_response_at", TIMESTAMP),
        sa.Column("sla_breached_at", TIMESTAMP),
        sa.Column("last_activity_at", TIMESTAMP),
        sa.Column("closed_at", TIMESTAMP),
        sa.Column("closed_by", ID),
        sa.Column("close_reason", sa.String(32)),
        sa.Column("desk_chat_id", sa.BigInteger()),
        sa.Column("desk_thread_id", sa.BigInteger()),
        sa.Column("desk_title", sa.String(255)),
        sa.Column("summary", sa.Text()),
        _pk("handoffs"),
        _fk("handoffs", "conversation_id", "conversations"),
        _fk("handoffs", "contact_id", "contacts"),
        _fk("handoffs", "agent_id", "agents"),
        _fk("handoffs", "closed_by", "agents"),
        **TABLE_OPTIONS,
    )
    indexes = (
        ("conversation_id", "status"),
        ("status", "priority", "requested_at", "id"),
        ("status", "offer_expires_at"),
        ("status", "sla_due_at"),
        ("status", "last_activity_at"),
        ("status", "closed_at"),
        ("desk_chat_id", "desk_thread_id"),
        ("agent_id", "status"),
    )
    for columns in indexes:
        op.create_index(f"ix_handoffs_{'_'.join(columns)}", "handoffs", list(columns))


def _create_conversation_events() -> None:
    op.create_table(
        "conversation_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("handoff_id", ID),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("agent_id", ID),
        sa.Column("text", sa.Text()),
        sa.Column("data", JSON, nullable=False),
        _pk("conversation_events"),
        _fk("conversation_events", "conversation_id", "conversations"),
        _fk("conversation_events", "handoff_id", "handoffs"),
        _fk("conversation_events", "agent_id", "agents"),
        **TABLE_OPTIONS,
    )
    op.create_index(
        "ix_conversation_events_conversation_id_id",
        "conversation_events",
        ["conversation_id", "id"],
    )


def _create_held_replies() -> None:
    op.create_table(
        "held_replies",
        sa.Column("id", ID, nullable=False),
        sa.Column("handoff_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("agent_id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("decided_by", ID),
        sa.Column("decided_at", TIMESTAMP),
        sa.Column("final_text", sa.Text()),
        _pk("held_replies"),
        _fk("held_replies", "handoff_id", "handoffs"),
        _fk("held_replies", "conversation_id", "conversations"),
        _fk("held_replies", "agent_id", "agents"),
        _fk("held_replies", "decided_by", "agents"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_held_replies_status_id", "held_replies", ["status", "id"])


def upgrade() -> None:
    # Parents before children: the foreign keys name tables that must exist.
    _create_agents()
    _create_handoffs()
    _create_conversation_events()
    _create_held_replies()


def downgrade() -> None:
    for table in ("held_replies", "conversation_events", "handoffs", "agents"):
        op.drop_table(table)
