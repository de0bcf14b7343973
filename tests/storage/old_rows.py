"""Rows written the way older revisions stored them, for the migration tests (0012 and the
downgrades): today's repositories would write columns those revisions do not have."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.types import Id, Json, UTCDateTime
from bot.storage.uow import Storage

# The outbox as revision 0011 left it: the repositories of today would write the new columns.
OUTBOX_0011 = sa.Table(
    "outbox",
    sa.MetaData(),
    sa.Column("id", Id, primary_key=True),
    sa.Column("key", sa.String(255)),
    sa.Column("contact_id", Id),
    sa.Column("channel", sa.String(32)),
    sa.Column("address", sa.String(255)),
    sa.Column("text", sa.Text),
    sa.Column("buttons", Json),
    sa.Column("kind", sa.String(32)),
    sa.Column("priority", sa.Integer),
    sa.Column("status", sa.String(32)),
    sa.Column("not_before", UTCDateTime()),
    sa.Column("attempts", sa.Integer),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime()),
)


async def message_outbox_id(storage: Storage, message_id: int) -> int | None:
    async with storage.engine.connect() as conn:
        query = sa.text("SELECT outbox_id FROM messages WHERE id = :id")
        return (await conn.execute(query, {"id": message_id})).scalar_one()  # type: ignore[no-any-return]
