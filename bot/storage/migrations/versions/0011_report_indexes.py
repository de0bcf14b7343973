"""Indexes for the reports (`nudge report`, the console dashboard).

Each report reads one period of one table by its time column; without these indexes every
report read the whole table (bench/reports.py measures both, docs/reports.md says why each).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns): written out here, not imported, so the migration stays frozen.
INDEXES = (
    # The funnel cohort: enrollments that entered in the period.
    ("ix_enrollments_entered_at", "enrollments", ["entered_at"]),
    # Response and resolution times, SLA breaches, first-contact resolution.
    ("ix_handoffs_requested_at", "handoffs", ["requested_at"]),
    # "Did this customer ask for a person again within 7 days": one probe per row.
    ("ix_handoffs_contact_id_requested_at", "handoffs", ["contact_id", "requested_at"]),
    # Hand-off rate; "came back within 7 days" for self-service resolution.
    ("ix_conversations_opened_at", "conversations", ["opened_at"]),
    # CSAT and NPS, and their trends.
    ("ix_survey_responses_answered_at", "survey_responses", ["answered_at"]),
    # Retention: the contacts created in the period...
    ("ix_contacts_created_at", "contacts", ["created_at"]),
    # ...and whether each wrote since a moment: one probe instead of its whole history.
    (
        "ix_messages_contact_id_direction_created_at",
        "messages",
        ["contact_id", "direction", "created_at"],
    ),
    # ...or paid an order since (the type-led index would walk every recent order per contact).
    (
        "ix_api_events_contact_id_type_occurred_at",
        "api_events",
        ["contact_id", "type", "occurred_at"],
    ),
)


# Funnel button presses among the customers' messages: a partial index holds only them.
BUTTON_INDEX = "ix_messages_funnel_button_created_at"
FUNNEL_BUTTON = "text LIKE '[button] fn:%'"


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    where = sa.text(FUNNEL_BUTTON)
    op.create_index(
        BUTTON_INDEX, "messages", ["created_at"], sqlite_where=where, postgresql_where=where
    )


def downgrade() -> None:
    op.drop_index(BUTTON_INDEX, table_name="messages")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
