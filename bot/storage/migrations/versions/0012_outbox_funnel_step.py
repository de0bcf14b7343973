"""The funnel step of each outbox row: what became of a step's messages, for the funnel report.

`outbox.enrollment_id` (ON DELETE SET NULL) and `outbox.step_id` name the funnel step a row was
sent for; a partial index on `(enrollment_id, step_id, status)` serves the report, which walks
the period's enrollments and reads the outcome of their steps' rows from the index alone.

Rows stored before this revision are linked from their key, `funnel:<enrollment>:<step>:<version>`
(a long text's parts add `#<n>`), in batches by id. A key that does not parse, or names an
enrollment that no longer exists, leaves the row unlinked.

SQLite cannot add a constraint to a table, so there the table is rebuilt (copied into a new one
with the constraint, the old one dropped): with foreign keys enforced, dropping it would set
`messages.outbox_id` to NULL (its ON DELETE action). Migrations run with them off
(bot/storage/sqlite_foreign_keys.py); the links are still kept aside and put back, so the
migration is safe however it is run, and the id counter is carried over.
Written by hand and frozen like 0001: nothing from `bot.storage` is imported.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
FOREIGN_KEY = "fk_outbox_enrollment_id_enrollments"
INDEX = "ix_outbox_enrollment_id_step_id_status"
INDEX_WHERE = "enrollment_id IS NOT NULL"
BATCH = 5000
# A funnel step's key; a step id is `[a-z0-9][a-z0-9_-]{0,63}` (the funnel file's id rule).
FUNNEL_KEY = re.compile(r"funnel:(\d+):([a-z0-9][a-z0-9_-]{0,63}):\d+(?:#\d+)?")

_NEXT_FUNNEL_ROWS = sa.text(
    "SELECT id, key FROM outbox WHERE id > :after AND key LIKE 'funnel:%' ORDER BY id LIMIT :n"
)
_EXISTING = sa.text("SELECT id FROM enrollments WHERE id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True)
)
_LINK = sa.text("UPDATE outbox SET enrollment_id = :enrollment, step_id = :step WHERE id = :row")


def upgrade() -> None:
    if _on_sqlite():
        _rebuild_sqlite_outbox(linked=True)
    else:
        op.add_column("outbox", sa.Column("enrollment_id", ID))
        op.add_column("outbox", sa.Column("step_id", sa.String(128)))
        op.create_foreign_key(
            FOREIGN_KEY, "outbox", "enrollments", ["enrollment_id"], ["id"], ondelete="SET NULL"
        )
    link_funnel_rows(op.get_bind())
    where = sa.text(INDEX_WHERE)
    op.create_index(
        INDEX,
        "outbox",
        ["enrollment_id", "step_id", "status"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="outbox")
    if _on_sqlite():
        _rebuild_sqlite_outbox(linked=False)
        return
    op.drop_constraint(FOREIGN_KEY, "outbox", type_="foreignkey")
    op.drop_column("outbox", "step_id")
    op.drop_column("outbox", "enrollment_id")


def link_funnel_rows(bind: sa.Connection) -> int:
    """Fill `enrollment_id` and `step_id` of the funnel rows from their keys, BATCH rows at a
    time in id order (memory stays flat on any table); the number of rows linked."""
    linked, after = 0, 0
    while True:
        rows = bind.execute(_NEXT_FUNNEL_ROWS, {"after": after, "n": BATCH}).all()
        if not rows:
            return linked
        after = rows[-1].id
        parsed = {row.id: found for row in rows if (found := _parse(row.key)) is not None}
        wanted = sorted({enrollment for enrollment, _step in parsed.values()})
        existing = {r.id for r in bind.execute(_EXISTING, {"ids": wanted})} if wanted else set()
        links = [
            {"row": row_id, "enrollment": enrollment, "step": step}
            for row_id, (enrollment, step) in parsed.items()
            if enrollment in existing
        ]
        if links:
            bind.execute(_LINK, links)
            linked += len(links)


def _parse(key: str) -> tuple[int, str] | None:
    found = FUNNEL_KEY.fullmatch(key)
    return (int(found[1]), found[2]) if found else None


def _on_sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


# --- SQLite: rebuild the table ------------------------------------------------------------------


def _outbox_columns(linked: bool) -> list[sa.Column[Any]]:
    """The outbox as of 0011, in its column order on a migrated SQLite database, and the link."""
    columns: list[sa.Column[Any]] = [
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
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(128)),
        sa.Column("lease_until", TIMESTAMP),
    ]
    if linked:
        columns += [sa.Column("enrollment_id", ID), sa.Column("step_id", sa.String(128))]
    return columns


def _outbox_constraints(linked: bool) -> list[sa.Constraint]:
    constraints: list[sa.Constraint] = [
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_outbox_contact_id_contacts"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_outbox_conversation_id_conversations",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    ]
    if linked:
        constraints.append(
            sa.ForeignKeyConstraint(
                ["enrollment_id"], ["enrollments.id"], name=FOREIGN_KEY, ondelete="SET NULL"
            )
        )
    return constraints


def _rebuild_sqlite_outbox(linked: bool) -> None:
    """The outbox copied into a table with (or without) the link columns and constraint."""
    bind = op.get_bind()
    indexes = [
        row.sql
        for row in bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'"
                    " AND sql IS NOT NULL")
        )
    ]  # fmt: skip
    counter = bind.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"))
    last_id = counter.scalar()
    op.create_table(
        "_outbox_rebuilt",
        *_outbox_columns(linked),
        *_outbox_constraints(linked),
        sqlite_autoincrement=True,
    )
    kept = ", ".join(f'"{column.name}"' for column in _outbox_columns(linked=False))
    op.execute(f"INSERT INTO _outbox_rebuilt ({kept}) SELECT {kept} FROM outbox")
    op.execute("CREATE TEMP TABLE _message_outbox (id INTEGER PRIMARY KEY, outbox_id INTEGER)")
    op.execute(
        "INSERT INTO _message_outbox SELECT id, outbox_id FROM messages WHERE outbox_id IS NOT NULL"
    )
    op.drop_table("outbox")  # sets messages.outbox_id to NULL: put back below
    op.rename_table("_outbox_rebuilt", "outbox")
    op.execute(
        "UPDATE messages SET outbox_id = (SELECT k.outbox_id FROM _message_outbox k"
        " WHERE k.id = messages.id) WHERE id IN (SELECT id FROM _message_outbox)"
    )
    op.execute("DROP TABLE _message_outbox")
    for statement in indexes:
        op.execute(statement)
    if last_id is not None:  # ids of deleted rows are never handed out again
        bind.execute(
            sa.text("UPDATE sqlite_sequence SET seq = :seq WHERE name = 'outbox'"),
            {"seq": last_id},
        )
