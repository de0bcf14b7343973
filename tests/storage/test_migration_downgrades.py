"""Downgrades that rebuild the outbox on SQLite (0012, 0010, 0003: SQLite cannot drop a column
in place, so the table is copied and the old one dropped) keep what points at its rows: the
messages' `outbox_id` (ON DELETE SET NULL would blank it when the old table is dropped) and the
id counter. On SQLite and PostgreSQL (where the columns are dropped in place)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.domain.model import Channel, Direction, Sender
from bot.storage.migrate import downgrade_engine, upgrade
from bot.storage.sqlite_foreign_keys import ForeignKeyError, check_keys, keys_off
from bot.storage.uow import Storage
from tests.storage.old_rows import OUTBOX_0011, message_outbox_id

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def _outbox_row_with_its_message(storage: Storage) -> tuple[int, int]:
    """(outbox row id, id of the message that records it), written at the head revision."""
    async with storage.uow() as uow:
        contact = await uow.contacts.create("Ana", "en")
        chat = await uow.conversations.create(contact.id, Channel.TELEGRAM, AT)
        await uow.commit()
    async with storage.engine.begin() as conn:
        values = {
            "key": "reply:telegram:77:1", "contact_id": contact.id, "channel": "telegram",
            "address": "77", "text": "hi", "buttons": [], "kind": "reply", "priority": 0,
            "status": "sent", "not_before": AT, "attempts": 1, "reason": None,
            "created_at": AT, "updated_at": AT,
        }  # fmt: skip
        inserted = await conn.execute(OUTBOX_0011.insert().returning(OUTBOX_0011.c.id), values)
        row_id = int(inserted.scalar_one())
    async with storage.uow() as uow:
        message = await uow.messages.add(
            chat.id, contact.id, Direction.OUTBOUND, Sender.BOT, Channel.TELEGRAM, "hi", AT,
            outbox_id=row_id,
        )  # fmt: skip
        await uow.commit()
    return row_id, message.id


@pytest.mark.parametrize("target", ["0011", "0009", "0002"])
async def test_a_downgrade_keeps_the_messages_links_to_their_outbox_rows(
    fresh_database_url: str, target: str
) -> None:
    await upgrade(fresh_database_url)
    storage = Storage(fresh_database_url)
    try:
        row_id, message_id = await _outbox_row_with_its_message(storage)
        await storage.dispose()
        await downgrade_engine(storage.engine, target)
        await storage.dispose()
        assert await message_outbox_id(storage, message_id) == row_id
        async with storage.engine.connect() as conn:
            kept = await conn.execute(sa.text("SELECT id FROM outbox"))
            assert list(kept.scalars()) == [row_id]
    finally:
        await storage.dispose()


async def test_foreign_keys_are_on_again_for_the_connections_after_a_migration(
    tmp_path: Path,
) -> None:
    storage = Storage(f"sqlite+aiosqlite:///{tmp_path / 'nudge.db'}")
    try:
        await storage.upgrade()
        await downgrade_engine(storage.engine, "0009")
        await storage.upgrade()
        for _ in range(3):  # whichever pooled connection comes next
            async with storage.engine.connect() as conn:
                assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await storage.dispose()


def test_a_change_that_leaves_a_reference_pointing_nowhere_is_refused() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER"
                             " REFERENCES parent (id))")  # fmt: skip
        keys_off(conn)
        conn.exec_driver_sql("INSERT INTO child VALUES (1, 42)")
        with pytest.raises(ForeignKeyError, match=r"1 row\(s\) point at missing rows.*child row 1"):
            check_keys(conn)
