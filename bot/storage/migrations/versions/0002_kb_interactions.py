"""Knowledge base log: each question, the decision taken, and "did this help?".

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_interactions",
        sa.Column("id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("article_id", sa.String(255)),
        sa.Column("score", sa.Float()),
        sa.Column("candidates", JSON, nullable=False),
        sa.Column("helpful", sa.Boolean()),
        sa.Column("feedback_at", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_interactions"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_kb_interactions_contact_id_contacts"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_kb_interactions_conversation_id_conversations",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_kb_interactions_conversation_id_id", "kb_interactions", ["conversation_id", "id"]
    )
    op.create_index("ix_kb_interactions_created_at", "kb_interactions", ["created_at"])


def downgrade() -> None:
    op.drop_table("kb_interactions")
