"""Indexes for the funnel scans (stalled dialogs, contacts gone quiet, lapsed buyers).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The scans walk these in (time, id) order from a stored position, a batch at a time.
    op.create_index(
        "ix_messages_direction_created_at_id", "messages", ["direction", "created_at", "id"]
    )
    op.create_index(
        "ix_api_events_type_occurred_at_id", "api_events", ["type", "occurred_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_api_events_type_occurred_at_id", table_name="api_events")
    op.drop_index("ix_messages_direction_created_at_id", table_name="messages")
