"""Scale-out: a lease per claimed outbox row, a conversation key on inbound updates, and the
`leases` table for jobs that run once per cluster.

Written by hand and frozen like 0001: constraint names follow the naming convention of
`tables.py`, and nothing from `bot.storage` is imported.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Which worker holds a SENDING row, and until when: only an expired lease is settled
    # as "unknown" by the others (its worker died mid-send).
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(128)))
        batch.add_column(sa.Column("lease_until", TIMESTAMP))
    # The claim skips chats another worker is sending to: their SENDING rows, by chat.
    op.create_index("ix_outbox_channel_address_status", "outbox", ["channel", "address", "status"])
    # The inbox claims by conversation: updates of one chat are handled by one worker, in order.
    with op.batch_alter_table("inbound_updates") as batch:
        batch.add_column(sa.Column("conversation_key", sa.String(255)))
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("acquired_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    with op.batch_alter_table("inbound_updates") as batch:
        batch.drop_column("conversation_key")
    op.drop_index("ix_outbox_channel_address_status", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
