"""`Outbox.enqueue_many`: a batch of drafts stored in two statements, on SQLite and PostgreSQL,
with what `enqueue` promises one draft at a time (order, one row per key, parts, the log)."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.model import (
    Button,
    Channel,
    Direction,
    OutboundDraft,
    OutboundKind,
    OutboxStatus,
    Sender,
)
from bot.storage.uow import Storage
from tests.storage.factories import new_contact, new_conversation

OUTBOX = Outbox({Channel.TELEGRAM: 100, Channel.WEBCHAT: 4096})


def telegram(key: str, contact_id: int, text: str, **fields: object) -> OutboundDraft:
    return OutboundDraft(key, contact_id, Channel.TELEGRAM, "42", text, **fields)  # type: ignore[arg-type]


async def test_a_batch_is_stored_in_its_order_with_every_field(
    storage: Storage, clock: FakeClock
) -> None:
    ann, bob = await new_contact(storage, "Ann"), await new_contact(storage, "Bob")
    later = clock.now() + timedelta(minutes=5)
    yes = [[Button("Yes", callback_data="fn:1:ask:yes")]]
    drafts = [
        (telegram("funnel:1:a:0", ann.id, "first", kind=OutboundKind.FUNNEL), clock.now()),
        (telegram("funnel:2:a:0", bob.id, "to Bob", buttons=yes, enrollment_id=None), later),
        (telegram("funnel:1:b:0", ann.id, "second", thread_id=7, step_id="b"), clock.now()),
    ]
    async with storage.uow() as uow:
        stored = await OUTBOX.enqueue_many(uow, drafts)
        await uow.commit()
    assert [row.key for row in stored] == ["funnel:1:a:0", "funnel:2:a:0", "funnel:1:b:0"]
    assert [row.id for row in stored] == sorted(row.id for row in stored)
    async with storage.uow() as uow:
        read = [await uow.outbox.get(row.id) for row in stored]
    # What enqueue_many returns is what the database holds, field by field.
    assert read == stored
    assert read[1] is not None and read[1].buttons == yes and read[1].created_at == later
    assert read[2] is not None and (read[2].thread_id, read[2].step_id) == (7, "b")
    assert all(row.status is OutboxStatus.PENDING for row in stored)
    assert stored[0].kind is OutboundKind.FUNNEL


async def test_a_key_stored_before_or_listed_twice_is_stored_once(
    storage: Storage, clock: FakeClock
) -> None:
    ann = await new_contact(storage)
    at = clock.now()
    async with storage.uow() as uow:
        await OUTBOX.enqueue(uow, telegram("old", ann.id, "sent yesterday"), at)
        await uow.commit()
    async with storage.uow() as uow:
        stored = await OUTBOX.enqueue_many(
            uow,
            [
                (telegram("old", ann.id, "again"), at),
                (telegram("new", ann.id, "new one"), at),
                (telegram("new", ann.id, "new one, twice"), at),
                (telegram("last", ann.id, "last"), at),
            ],
        )
        await uow.commit()
        assert await OUTBOX.enqueue_many(uow, [(telegram("last", ann.id, "x"), at)]) == []
    assert [(row.key, row.text) for row in stored] == [("new", "new one"), ("last", "last")]
    async with storage.uow() as uow:
        rows = await uow.outbox.claim_due(at, 10)
    assert [row.text for row in rows] == ["sent yesterday", "new one", "last"]


async def test_long_texts_become_parts_and_conversation_messages_are_logged(
    storage: Storage, clock: FakeClock
) -> None:
    ann, bob = await new_contact(storage, "Ann"), await new_contact(storage, "Bob")
    talk = await new_conversation(storage, ann.id, clock.now())
    long_text = " ".join(f"word{n}" for n in range(40))  # over the 100-character limit
    buttons = [[Button("Open", url="https://example.com")]]
    drafts = [
        telegram("long", ann.id, long_text, conversation_id=talk.id, buttons=buttons),
        telegram("quiet", bob.id, "no conversation: nothing to log"),
        telegram("agent", ann.id, "hi", conversation_id=talk.id, kind=OutboundKind.AGENT),
    ]
    async with storage.uow() as uow:
        stored = await OUTBOX.enqueue_many(uow, [(draft, clock.now()) for draft in drafts])
        await uow.commit()
    parts = [row for row in stored if row.key.startswith("long#")]
    assert len(parts) >= 3 and " ".join(row.text for row in parts) == long_text
    assert [row.buttons for row in parts] == [[]] * (len(parts) - 1) + [buttons]
    async with storage.uow() as uow:
        ann_log = await uow.messages.history(ann.id)
        bob_log = await uow.messages.history(bob.id)
    assert bob_log == []
    by_outbox = {row.id: row for row in stored}
    assert [m.outbox_id for m in ann_log] == [row.id for row in stored if row.contact_id == ann.id]
    for message in ann_log:
        row = by_outbox[message.outbox_id]  # type: ignore[index]
        assert (message.text, message.conversation_id, message.created_at) == (
            row.text,
            talk.id,
            clock.now(),
        )
        assert message.direction is Direction.OUTBOUND
    assert [m.sender for m in ann_log][-1] is Sender.AGENT
    assert {m.sender for m in ann_log[:-1]} == {Sender.BOT}


async def test_nothing_to_store_costs_nothing(storage: Storage) -> None:
    async with storage.uow() as uow:
        assert await OUTBOX.enqueue_many(uow, []) == []
