"""The conversation event feed on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.exc import StatementError

from bot.domain.clock import FakeClock
from bot.domain.handoff import ConversationEvent, EventKind
from bot.storage.uow import Storage

from .factories import new_agent, new_chat, new_handoff


async def test_add_round_trips_every_field(storage: Storage, clock: FakeClock) -> None:
    chat = await new_chat(storage, clock.now())
    agent = await new_agent(storage)
    handoff = await new_handoff(storage, chat, clock.now())
    data = {"to_agent": 7, "team": "billing", "tags": ["vip", "ü"]}
    async with storage.uow() as uow:
        full = await uow.events.add(
            chat.id,
            EventKind.TRANSFERRED,
            clock.now(),
            handoff_id=handoff.id,
            agent_id=agent.id,
            text="over to billing",
            data=data,
        )
        bare = await uow.events.add(chat.id, EventKind.CUSTOMER_MESSAGE, clock.now())
        await uow.commit()
    assert full == ConversationEvent(
        id=full.id,
        conversation_id=chat.id,
        kind=EventKind.TRANSFERRED,
        at=clock.now(),
        handoff_id=handoff.id,
        agent_id=agent.id,
        text="over to billing",
        data=data,
    )
    assert bare == ConversationEvent(bare.id, chat.id, EventKind.CUSTOMER_MESSAGE, clock.now())
    async with storage.uow() as uow:
        assert await uow.events.for_conversation(chat.id) == [full, bare]


async def test_after_walks_the_feed_in_order(storage: Storage, clock: FakeClock) -> None:
    one, two = await new_chat(storage, clock.now()), await new_chat(storage, clock.now(), "Bo")
    async with storage.uow() as uow:
        assert await uow.events.last_id() == 0
        assert await uow.events.after(0) == []
        added = []
        for index in range(5):
            clock.advance(1)
            chat = one if index % 2 == 0 else two
            added.append(
                await uow.events.add(chat.id, EventKind.NOTE, clock.now(), text=str(index))
            )
        await uow.commit()
    ids = [event.id for event in added]
    async with storage.uow() as uow:
        assert await uow.events.after(0) == added
        assert [event.id for event in await uow.events.after(ids[1])] == ids[2:]
        assert [event.id for event in await uow.events.after(ids[0], limit=2)] == ids[1:3]
        assert await uow.events.after(ids[-1]) == []
        assert await uow.events.last_id() == ids[-1]


async def test_for_conversation_gives_the_latest_oldest_first(
    storage: Storage, clock: FakeClock
) -> None:
    chat, other = await new_chat(storage, clock.now()), await new_chat(storage, clock.now(), "Bo")
    async with storage.uow() as uow:
        mine = [await uow.events.add(chat.id, EventKind.NOTE, clock.now()) for _ in range(4)]
        await uow.events.add(other.id, EventKind.NOTE, clock.now())
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.events.for_conversation(chat.id) == mine
        assert await uow.events.for_conversation(chat.id, limit=2) == mine[2:]
        assert await uow.events.for_conversation(other.id + 1000) == []


async def test_datetimes_must_be_aware(storage: Storage, clock: FakeClock) -> None:
    chat = await new_chat(storage, clock.now())
    async with storage.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.events.add(chat.id, EventKind.NOTE, datetime(2026, 1, 1))
