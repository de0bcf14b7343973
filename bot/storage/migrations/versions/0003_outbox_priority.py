"""Outbox priority: replies to customers are claimed before surveys, and both before marketing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The values of OutboundKind.priority when this revision was written, for rows already queued.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.execute(sa.text("UPDATE outbox SET priority = 2 WHERE kind IN ('funnel', 'broadcast')"))
    op.execute(sa.text("UPDATE outbox SET priority = 1 WHERE kind = 'survey'"))
    op.drop_index("ix_outbox_status_id", table_name="outbox")
    op.create_index("ix_outbox_status_priority_id", "outbox", ["status", "priority", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_priority_id", table_name="outbox")
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
