"""Migration 0012 on a database holding rows: funnel rows written before it are linked to their
enrollment and step from their keys, everything else stays as it was (SQLite rebuilds the
table, so the messages' links to their outbox rows and the id counter are checked too), and the
downgrade takes the columns away again. On SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.model import Channel, Direction, OutboundDraft, Sender
from bot.storage.migrate import downgrade_engine, upgrade
from bot.storage.uow import Storage
from tests.storage.old_rows import OUTBOX_0011, message_outbox_id

MIGRATION = importlib.import_module("bot.storage.migrations.versions.0012_outbox_funnel_step")
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def _seed_at_0011(storage: Storage) -> dict[str, Any]:
    """Two enrollments, and outbox rows with every kind of key; `{key: row id}` and more."""
    async with storage.uow() as uow:
        contact = await uow.contacts.create("Ana", "en")
        chat = await uow.conversations.create(contact.id, Channel.TELEGRAM, AT)
        enrolled = [
            await uow.enrollments.add(
                Enrollment(id=0, funnel_id=funnel, contact_id=contact.id,
                           status=EnrollmentStatus.RUNNING, step_id=None, due_at=None,
                           entered_at=AT, updated_at=AT)
            )
            for funnel in ("welcome", "cart")
        ]  # fmt: skip
        await uow.commit()
    welcome, cart = enrolled[0].id, enrolled[1].id
    keys = [
        f"funnel:{welcome}:hello:1",  # linked: welcome / hello
        f"funnel:{welcome}:offer:2#1",  # the two parts of a long text: both linked
        f"funnel:{welcome}:offer:2#2",
        f"funnel:{cart}:nudge-2:1",  # linked: cart / nudge-2
        "funnel:999999:hello:1",  # no such enrollment: stays unlinked
        "funnel:abc:hello:1",  # does not parse
        f"funnel:{welcome}:Hello There:1",  # not a step id
        f"funnel:{welcome}:hello",  # no version
        f"reply:telegram:77:{welcome}",  # not a funnel row
        f"handoff:5:waiting:funnel:{welcome}:hello:1",  # a hand-off notice caused by a funnel
        "funnel:1:gone:1",  # deleted below: the highest id before the upgrade
    ]
    ids: dict[str, int] = {}
    async with storage.engine.begin() as conn:
        for key in keys:
            values = {
                "key": key, "contact_id": contact.id, "channel": "telegram", "address": "77",
                "text": key, "buttons": [], "kind": "funnel", "priority": 2, "status": "sent",
                "not_before": AT, "attempts": 1, "reason": None, "created_at": AT,
                "updated_at": AT,
            }  # fmt: skip
            result = await conn.execute(OUTBOX_0011.insert().returning(OUTBOX_0011.c.id), values)
            ids[key] = result.scalar_one()
        await conn.execute(OUTBOX_0011.delete().where(OUTBOX_0011.c.key == "funnel:1:gone:1"))
    async with storage.uow() as uow:
        message = await uow.messages.add(
            chat.id, contact.id, Direction.OUTBOUND, Sender.BOT, Channel.TELEGRAM, "hi", AT,
            outbox_id=ids[f"funnel:{welcome}:hello:1"],
        )  # fmt: skip
        await uow.commit()
    return {"welcome": welcome, "cart": cart, "ids": ids, "message": message.id}


async def _links(storage: Storage) -> dict[str, tuple[int | None, str | None]]:
    async with storage.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT key, enrollment_id, step_id FROM outbox"))
        return {row.key: (row.enrollment_id, row.step_id) for row in rows}


async def _outbox_columns(storage: Storage) -> set[str]:
    def names(sync: sa.Connection) -> set[str]:
        return {column["name"] for column in sa.inspect(sync).get_columns("outbox")}

    async with storage.engine.connect() as conn:
        return await conn.run_sync(names)


async def test_upgrade_links_the_funnel_rows_stored_before_it(fresh_database_url: str) -> None:
    await upgrade(fresh_database_url, "0011")
    storage = Storage(fresh_database_url)
    try:
        seeded = await _seed_at_0011(storage)
        await storage.dispose()
        await upgrade(fresh_database_url)

        welcome, cart = seeded["welcome"], seeded["cart"]
        linked = {key: link for key, link in (await _links(storage)).items() if link[0]}
        assert linked == {
            f"funnel:{welcome}:hello:1": (welcome, "hello"),
            f"funnel:{welcome}:offer:2#1": (welcome, "offer"),
            f"funnel:{welcome}:offer:2#2": (welcome, "offer"),
            f"funnel:{cart}:nudge-2:1": (cart, "nudge-2"),
        }
        assert len(await _links(storage)) == 10  # every row is still there (one was deleted)
        # SQLite rebuilt the table: the message still points at its row, and the row read back
        # through the repository carries its step.
        hello_id = seeded["ids"][f"funnel:{welcome}:hello:1"]
        assert await message_outbox_id(storage, seeded["message"]) == hello_id
        async with storage.uow() as uow:
            row = await uow.outbox.get(hello_id)
            assert row is not None and (row.enrollment_id, row.step_id) == (welcome, "hello")
            # The id of the row deleted before the upgrade is not handed out again.
            later = await uow.outbox.add(_draft("reply:later", row.contact_id), AT)
            await uow.commit()
        assert later is not None and later.id > seeded["ids"]["funnel:1:gone:1"]
    finally:
        await storage.dispose()


async def test_downgrade_removes_the_columns_and_keeps_the_rows(fresh_database_url: str) -> None:
    await upgrade(fresh_database_url, "0011")
    storage = Storage(fresh_database_url)
    try:
        seeded = await _seed_at_0011(storage)
        await upgrade(fresh_database_url)
        await storage.dispose()
        await downgrade_engine(storage.engine, "0011")
        await storage.dispose()

        columns = await _outbox_columns(storage)
        assert "enrollment_id" not in columns and "step_id" not in columns
        async with storage.engine.connect() as conn:
            keys = set((await conn.execute(sa.text("SELECT key FROM outbox"))).scalars())
        assert keys == set(seeded["ids"]) - {"funnel:1:gone:1"}
        hello_id = seeded["ids"][f"funnel:{seeded['welcome']}:hello:1"]
        assert await message_outbox_id(storage, seeded["message"]) == hello_id
        await storage.dispose()
        await upgrade(fresh_database_url)  # and up again: linked again
        links = await _links(storage)
        assert links[f"funnel:{seeded['welcome']}:hello:1"] == (seeded["welcome"], "hello")
    finally:
        await storage.dispose()


async def test_the_backfill_walks_the_table_in_batches(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2 over 5 funnel rows and replies between them: each batch starts after the
    last id of the one before, and rows after a batch boundary are linked too."""
    monkeypatch.setattr(MIGRATION, "BATCH", 2)
    async with storage.uow() as uow:
        contact = await uow.contacts.create("Ana", "en")
        enrollment = await uow.enrollments.add(
            Enrollment(id=0, funnel_id="welcome", contact_id=contact.id,
                       status=EnrollmentStatus.RUNNING, step_id=None, due_at=None,
                       entered_at=AT, updated_at=AT)
        )  # fmt: skip
        for n in range(5):
            await uow.outbox.add(_draft(f"funnel:{enrollment.id}:step-{n}:1", contact.id), AT)
            await uow.outbox.add(_draft(f"reply:{n}", contact.id), AT)
        await uow.commit()
    async with storage.engine.begin() as conn:
        linked = await conn.run_sync(MIGRATION.link_funnel_rows)
    assert linked == 5
    links = await _links(storage)
    assert {key: link for key, link in links.items() if key.startswith("funnel:")} == {
        f"funnel:{enrollment.id}:step-{n}:1": (enrollment.id, f"step-{n}") for n in range(5)
    }
    assert {link for key, link in links.items() if key.startswith("reply:")} == {(None, None)}


def _draft(key: str, contact_id: int) -> OutboundDraft:
    return OutboundDraft(key, contact_id, Channel.TELEGRAM, "77", "text")
