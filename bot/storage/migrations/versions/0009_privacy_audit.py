"""Privacy: the `privacy_audit` table (who exported or forgot which contact, and when).

Written by hand and frozen like 0001: constraint names follow the naming convention of
`tables.py`, and nothing from `bot.storage` is imported.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-28 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "privacy_audit"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", ID, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        sqlite_autoincrement=True,
    )
    op.create_index(f"ix_{TABLE}_contact_id", TABLE, ["contact_id"])


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_contact_id", table_name=TABLE)
    op.drop_table(TABLE)
