"""Funnels: enrollments, coupon codes and the funnel log.

Written by hand and frozen like 0001: constraint names follow the naming convention of
`tables.py`, and nothing from `bot.storage.tables` is imported.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
# Never reuse the ids of deleted rows on SQLite (see tables.py).
TABLE_OPTIONS: dict[str, Any] = {"sqlite_autoincrement": True}


def _contact_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["contact_id"], ["contacts.id"], name=f"fk_{table}_contact_id_contacts"
    )


def _create_enrollments() -> None:
    op.create_table(
        "enrollments",
        sa.Column("id", ID, nullable=False),
        sa.Column("funnel_id", sa.String(128), nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step_id", sa.String(128)),
        sa.Column("resume_step_id", sa.String(128)),
        sa.Column("due_at", TIMESTAMP),
        sa.Column("claimed_due_at", TIMESTAMP),
        sa.Column("waiting_since", TIMESTAMP),
        sa.Column("event", JSON, nullable=False),
        sa.Column("variables", JSON, nullable=False),
        sa.Column("variant", sa.String(64)),
        sa.Column("entered_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP),
        sa.Column("end_reason", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_enrollments"),
        _contact_fk("enrollments"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_enrollments_due_at_id", "enrollments", ["due_at", "id"])
    op.create_index(
        "ix_enrollments_contact_id_funnel_id", "enrollments", ["contact_id", "funnel_id"]
    )
    op.create_index("ix_enrollments_funnel_id_status", "enrollments", ["funnel_id", "status"])


def _create_coupon_codes() -> None:
    op.create_table(
        "coupon_codes",
        sa.Column("id", ID, nullable=False),
        sa.Column("pool", sa.String(128), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("contact_id", ID),
        sa.Column("assigned_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_coupon_codes"),
        _contact_fk("coupon_codes"),
        sa.UniqueConstraint("pool", "code", name="uq_coupon_codes_pool_code"),
        **TABLE_OPTIONS,
    )
    op.create_index(
        "ix_coupon_codes_pool_contact_id_id", "coupon_codes", ["pool", "contact_id", "id"]
    )


def _create_funnel_log() -> None:
    op.create_table(
        "funnel_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("enrollment_id", ID, nullable=False),
        sa.Column("funnel_id", sa.String(128), nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("step_id", sa.String(128)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("variant", sa.String(64)),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_funnel_log"),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name="fk_funnel_log_enrollment_id_enrollments"
        ),
        _contact_fk("funnel_log"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_funnel_log_contact_id_kind_at", "funnel_log", ["contact_id", "kind", "at"])
    op.create_index("ix_funnel_log_funnel_id_at", "funnel_log", ["funnel_id", "at"])
    op.create_index("ix_funnel_log_enrollment_id_id", "funnel_log", ["enrollment_id", "id"])


def upgrade() -> None:
    _create_enrollments()
    _create_coupon_codes()
    _create_funnel_log()


def downgrade() -> None:
    op.drop_table("funnel_log")
    op.drop_table("coupon_codes")
    op.drop_table("enrollments")
