from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import StatementError

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, ConversationStatus, Direction, Sender
from bot.storage.uow import Storage

from .factories import add_drafts, draft, new_contact, new_conversation


async def test_create_get_and_open_for_contact(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    async with storage.uow() as uow:
        assert await uow.conversations.open_for_contact(contact.id) is None
        created = await uow.conversations.create(contact.id, Channel.TELEGRAM, clock.now())
        await uow.commit()
    assert created.status is ConversationStatus.BOT
    assert created.opened_at == created.updated_at == clock.now()
    assert created.closed_at is None
    async with storage.uow() as uow:
        assert await uow.conversations.get(created.id) == created
        assert await uow.conversations.get(created.id + 1000) is None
        assert await uow.conversations.open_for_contact(contact.id) == created


async def test_set_status_closes_and_reopens(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    conversation = await new_conversation(storage, contact.id, clock.now())
    clock.advance(60)
    async with storage.uow() as uow:
        await uow.conversations.set_status(
            conversation.id, ConversationStatus.WAITING_FOR_AGENT, clock.now()
        )
        waiting = await uow.conversations.open_for_contact(contact.id)
        clock.advance(60)
        await uow.conversations.set_status(conversation.id, ConversationStatus.CLOSED, clock.now())
        closed = await uow.conversations.get(conversation.id)
        assert await uow.conversations.open_for_contact(contact.id) is None
        await uow.conversations.set_status(conversation.id, ConversationStatus.BOT, clock.now())
        reopened = await uow.conversations.get(conversation.id)
    assert waiting is not None and waiting.status is ConversationStatus.WAITING_FOR_AGENT
    assert closed is not None and closed.closed_at == clock.now() == closed.updated_at
    assert reopened is not None and reopened.closed_at is None


async def test_touch_sets_channel_and_time(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    conversation = await new_conversation(storage, contact.id, clock.now())
    clock.advance(5)
    async with storage.uow() as uow:
        await uow.conversations.touch(conversation.id, Channel.WEBCHAT, clock.now())
        touched = await uow.conversations.get(conversation.id)
    assert touched is not None
    assert (touched.channel, touched.updated_at) == (Channel.WEBCHAT, clock.now())
    assert touched.opened_at == conversation.opened_at


async def test_open_for_contact_prefers_the_newest_open_one(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    await new_conversation(storage, contact.id, clock.now())
    newest = await new_conversation(storage, contact.id, clock.now())
    async with storage.uow() as uow:
        assert await uow.conversations.open_for_contact(contact.id) == newest


async def test_history_is_the_latest_messages_oldest_first_across_conversations(
    storage: Storage, clock: FakeClock
) -> None:
    contact, other = await new_contact(storage), await new_contact(storage, "Other")
    first = await new_conversation(storage, contact.id, clock.now())
    second = await new_conversation(storage, contact.id, clock.now())
    unrelated = await new_conversation(storage, other.id, clock.now())
    async with storage.uow() as uow:
        for index in range(6):
            clock.advance(1)
            conversation = first if index < 3 else second
            await uow.messages.add(
                conversation.id,
                contact.id,
                Direction.INBOUND,
                Sender.CUSTOMER,
                Channel.TELEGRAM,
                f"m{index}",
                clock.now(),
                channel_message_id=str(index),
            )
        await uow.messages.add(
            unrelated.id,
            other.id,
            Direction.INBOUND,
            Sender.CUSTOMER,
            Channel.TELEGRAM,
            "x",
            clock.now(),
        )
        await uow.commit()
    async with storage.uow() as uow:
        latest = await uow.messages.history(contact.id, limit=4)
        everything = await uow.messages.history(contact.id)
    assert [m.text for m in latest] == ["m2", "m3", "m4", "m5"]
    assert [m.text for m in everything] == [f"m{i}" for i in range(6)]
    assert {m.conversation_id for m in latest} == {first.id, second.id}
    assert latest[0].direction is Direction.INBOUND and latest[0].sender is Sender.CUSTOMER
    assert latest[0].channel_message_id == "2"


async def test_set_channel_message_id_updates_the_message_of_an_outbox_row(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    conversation = await new_conversation(storage, contact.id, clock.now())
    [outbox_id] = await add_drafts(storage, clock.now(), draft("reply-1", contact.id))
    async with storage.uow() as uow:
        message = await uow.messages.add(
            conversation.id,
            contact.id,
            Direction.OUTBOUND,
            Sender.BOT,
            Channel.TELEGRAM,
            "hello",
            clock.now(),
            outbox_id=outbox_id,
        )
        await uow.messages.set_channel_message_id(outbox_id, "tg-77")
        await uow.commit()
    async with storage.uow() as uow:
        [stored] = await uow.messages.history(contact.id)
    assert message.channel_message_id is None
    assert stored.outbox_id == outbox_id
    assert stored.channel_message_id == "tg-77"


async def test_datetimes_come_back_aware_utc_whatever_zone_went_in(storage: Storage) -> None:
    contact = await new_contact(storage)
    berlin = datetime(2026, 7, 1, 14, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    conversation = await new_conversation(storage, contact.id, berlin)
    async with storage.uow() as uow:
        loaded = await uow.conversations.get(conversation.id)
    assert loaded is not None
    for value in (conversation.opened_at, loaded.opened_at):
        assert value == berlin
        assert value.tzinfo is UTC
        assert value == datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=UTC)


async def test_naive_datetimes_are_refused(storage: Storage) -> None:
    contact = await new_contact(storage)
    async with storage.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.conversations.create(contact.id, Channel.TELEGRAM, datetime(2026, 1, 1))


async def test_comparisons_use_the_instant_not_the_wall_clock(
    storage: Storage, clock: FakeClock
) -> None:
    """11:00 in UTC+5 is before 09:00 UTC: SQLite must compare UTC text to get this right."""
    contact = await new_contact(storage)
    early = datetime(2026, 1, 5, 11, 0, tzinfo=ZoneInfo("Asia/Karachi"))  # 06:00 UTC
    late = clock.now() + timedelta(hours=1)  # 10:00 UTC
    await add_drafts(
        storage,
        clock.now(),
        draft("late", contact.id, not_before=late),
        draft("early", contact.id, not_before=early),
    )
    async with storage.uow() as uow:
        claimed = await uow.outbox.claim_due(clock.now(), 10)
    assert [row.key for row in claimed] == ["early"]
