"""Initial schema: contacts, identities, conversations, messages, outbox, inbound, settings.

Written by hand and frozen: it must not import `bot.storage.tables`, whose later changes belong
in later revisions. Constraint names follow the naming convention of `tables.py`.

Revision ID: 0001
Revises:
Create Date: 2026-01-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
# Never reuse the ids of deleted rows on SQLite (see tables.py).
TABLE_OPTIONS: dict[str, Any] = {"sqlite_autoincrement": True}


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _fk(table: str, column: str, referred: str, ondelete: str | None = None) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}", ondelete=ondelete
    )


def _create_contacts() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", ID, nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("start_payload", sa.String(255)),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _pk("contacts"),
        **TABLE_OPTIONS,
    )


def _create_channel_identities() -> None:
    op.create_table(
        "channel_identities",
        sa.Column("id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255)),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        _pk("channel_identities"),
        _fk("channel_identities", "contact_id", "contacts"),
        sa.UniqueConstraint(
            "channel", "external_id", name="uq_channel_identities_channel_external_id"
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_channel_identities_contact_id", "channel_identities", ["contact_id"])


def _create_conversations() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP),
        _pk("conversations"),
        _fk("conversations", "contact_id", "contacts"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_conversations_contact_id_status", "conversations", ["contact_id", "status"])


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("conversation_id", ID),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("thread_id", ID),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", JSON, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("not_before", TIMESTAMP, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("channel_message_id", sa.String(255)),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP),
        _pk("outbox"),
        _fk("outbox", "contact_id", "contacts"),
        _fk("outbox", "conversation_id", "conversations", ondelete="SET NULL"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])
    op.create_index("ix_outbox_contact_id_status", "outbox", ["contact_id", "status"])


def _create_messages() -> None:
    op.create_table(
        "messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel_message_id", sa.String(255)),
        sa.Column("outbox_id", ID),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        _pk("messages"),
        _fk("messages", "conversation_id", "conversations"),
        _fk("messages", "contact_id", "contacts"),
        _fk("messages", "outbox_id", "outbox", ondelete="SET NULL"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_messages_contact_id_id", "messages", ["contact_id", "id"])
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_index("ix_messages_outbox_id", "messages", ["outbox_id"])


def _create_inbound_updates() -> None:
    op.create_table(
        "inbound_updates",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("external_key", sa.String(255), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("processed_at", TIMESTAMP),
        _pk("inbound_updates"),
        sa.UniqueConstraint(
            "channel", "external_key", name="uq_inbound_updates_channel_external_key"
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_inbound_updates_status_id", "inbound_updates", ["status", "id"])


def _create_settings() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )


def upgrade() -> None:
    # Referenced tables first.
    _create_contacts()
    _create_channel_identities()
    _create_conversations()
    _create_outbox()
    _create_messages()
    _create_inbound_updates()
    _create_settings()


def downgrade() -> None:
    # Indexes go with their tables; referencing tables first.
    for table in (
        "settings",
        "inbound_updates",
        "messages",
        "outbox",
        "conversations",
        "channel_identities",
        "contacts",
    ):
        op.drop_table(table)
