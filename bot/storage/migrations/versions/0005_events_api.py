"""The Events API: shop identifiers on contacts, stored events, outbound webhook deliveries.

Written by hand and frozen like 0001: constraint names follow the naming convention of
`tables.py`, and nothing from `bot.storage.tables` is imported.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
# Never reuse the ids of deleted rows on SQLite (see tables.py).
TABLE_OPTIONS: dict[str, Any] = {"sqlite_autoincrement": True}
CONTACT_IDENTIFIERS = (("external_id", 255), ("phone", 32), ("email", 320))


def _add_contact_identifiers() -> None:
    # Nullable columns and unique indexes: both can be added to an existing SQLite table.
    for name, length in CONTACT_IDENTIFIERS:
        op.add_column("contacts", sa.Column(name, sa.String(length)))
        op.create_index(f"ix_contacts_{name}", "contacts", [name], unique=True)


def _create_api_events() -> None:
    op.create_table(
        "api_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("processed_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_api_events"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_api_events_contact_id_contacts"
        ),
        sa.UniqueConstraint("key", name="uq_api_events_key"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_api_events_status_id", "api_events", ["status", "id"])
    op.create_index("ix_api_events_contact_id", "api_events", ["contact_id"])


def _create_webhook_deliveries() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_key", sa.String(255), nullable=False),
        sa.Column("endpoint", sa.String(1024), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint(
            "event_key", "endpoint", name="uq_webhook_deliveries_event_key_endpoint"
        ),
        **TABLE_OPTIONS,
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )


def upgrade() -> None:
    _add_contact_identifiers()
    _create_api_events()
    _create_webhook_deliveries()


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("api_events")
    # batch mode: SQLite drops a column by copying the table.
    with op.batch_alter_table("contacts", table_kwargs=TABLE_OPTIONS) as batch:
        for name, _length in reversed(CONTACT_IDENTIFIERS):
            batch.drop_index(f"ix_contacts_{name}")
            batch.drop_column(name)
