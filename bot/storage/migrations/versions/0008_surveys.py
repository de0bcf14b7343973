"""Surveys: the `survey_responses` table (CSAT / NPS answers and the questions sent).

Written by hand and frozen like 0001: constraint names follow the naming convention of
`tables.py`, and nothing from `bot.storage` is imported.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-21 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
TABLE = "survey_responses"


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{TABLE}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", ID, nullable=False),
        sa.Column("survey_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("conversation_id", ID),
        sa.Column("handoff_id", ID),
        sa.Column("agent_id", ID),
        sa.Column("team", sa.String(64)),
        sa.Column("funnel_id", sa.String(128)),
        sa.Column("enrollment_id", ID),
        sa.Column("language", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("score", sa.Integer()),
        sa.Column("comment", sa.Text()),
        sa.Column("low_score", sa.Boolean(), nullable=False),
        sa.Column("awaiting_comment", sa.Boolean(), nullable=False),
        sa.Column("follow_up_pending", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("answered_at", TIMESTAMP),
        sa.Column("commented_at", TIMESTAMP),
        sa.Column("reopened_at", TIMESTAMP),
        sa.Column("reopened_by", ID),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        _fk("contact_id", "contacts"),
        _fk("conversation_id", "conversations"),
        _fk("handoff_id", "handoffs"),
        _fk("agent_id", "agents"),
        _fk("enrollment_id", "enrollments"),
        _fk("reopened_by", "agents"),
        sa.UniqueConstraint("survey_id", "handoff_id", name=f"uq_{TABLE}_survey_id_handoff_id"),
        sa.UniqueConstraint(
            "survey_id", "enrollment_id", name=f"uq_{TABLE}_survey_id_enrollment_id"
        ),
        sqlite_autoincrement=True,
    )
    for columns in (
        ["contact_id", "sent_at"],
        ["status", "expires_at"],
        ["conversation_id"],
        ["survey_id", "answered_at"],
        ["agent_id", "answered_at"],
    ):
        op.create_index(f"ix_{TABLE}_{'_'.join(columns)}", TABLE, columns)


def downgrade() -> None:
    op.drop_table(TABLE)
