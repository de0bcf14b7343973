"""Trainees' held replies on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError

from bot.domain.clock import FakeClock
from bot.domain.handoff import Agent, Handoff, HeldReply, HeldReplyStatus
from bot.storage.uow import Storage

from .factories import new_agent, new_chat, new_handoff

APPROVED, REJECTED, PENDING = (
    HeldReplyStatus.APPROVED,
    HeldReplyStatus.REJECTED,
    HeldReplyStatus.PENDING,
)


async def _setup(storage: Storage, clock: FakeClock) -> tuple[Handoff, Agent, Agent]:
    chat = await new_chat(storage, clock.now())
    trainee = await new_agent(storage, "tom", trainee=True)
    supervisor = await new_agent(storage, "sue")
    return await new_handoff(storage, chat, clock.now()), trainee, supervisor


async def _hold(
    storage: Storage, handoff: Handoff, agent: Agent, text: str, at: datetime
) -> HeldReply:
    async with storage.uow() as uow:
        held = await uow.held_replies.add(handoff.id, handoff.conversation_id, agent.id, text, at)
        await uow.commit()
    return held


async def test_add_and_get(storage: Storage, clock: FakeClock) -> None:
    handoff, trainee, _ = await _setup(storage, clock)
    held = await _hold(storage, handoff, trainee, "Hello! Your refund is on its way.", clock.now())
    async with storage.uow() as uow:
        loaded = await uow.held_replies.get(held.id)
        assert await uow.held_replies.get(held.id + 1000) is None
    assert (
        loaded
        == held
        == HeldReply(
            id=held.id,
            handoff_id=handoff.id,
            conversation_id=handoff.conversation_id,
            agent_id=trainee.id,
            text="Hello! Your refund is on its way.",
            status=PENDING,
            created_at=clock.now(),
        )
    )


async def test_pending_oldest_first(storage: Storage, clock: FakeClock) -> None:
    handoff, trainee, supervisor = await _setup(storage, clock)
    held = []
    for text in ("one", "two", "three", "four"):
        clock.advance(1)
        held.append(await _hold(storage, handoff, trainee, text, clock.now()))
    async with storage.uow() as uow:
        assert await uow.held_replies.decide(held[1].id, APPROVED, supervisor.id, clock.now(), "2")
        await uow.commit()
    async with storage.uow() as uow:
        waiting = await uow.held_replies.pending()
        first = await uow.held_replies.pending(limit=1)
    assert [reply.text for reply in waiting] == ["one", "three", "four"]
    assert [reply.text for reply in first] == ["one"]


async def test_decide_is_a_compare_and_set(storage: Storage, clock: FakeClock) -> None:
    handoff, trainee, supervisor = await _setup(storage, clock)
    held = await _hold(storage, handoff, trainee, "helo", clock.now())
    decided_at = clock.now() + timedelta(minutes=2)
    async with storage.uow() as uow:
        assert await uow.held_replies.decide(held.id, APPROVED, supervisor.id, decided_at, "hello")
        # The second supervisor was too late, whatever they decided.
        assert not await uow.held_replies.decide(held.id, REJECTED, trainee.id, clock.now(), None)
        assert not await uow.held_replies.decide(
            held.id + 1000, REJECTED, trainee.id, clock.now(), None
        )
        with pytest.raises(ValueError, match="PENDING"):
            await uow.held_replies.decide(held.id, PENDING, supervisor.id, clock.now(), None)
        await uow.commit()
    async with storage.uow() as uow:
        loaded = await uow.held_replies.get(held.id)
    assert loaded is not None
    assert (loaded.status, loaded.decided_by, loaded.decided_at, loaded.final_text) == (
        APPROVED,
        supervisor.id,
        decided_at,
        "hello",
    )
    assert loaded.text == "helo"


async def test_two_supervisors_deciding_at_once_one_wins(
    storage: Storage, clock: FakeClock
) -> None:
    handoff, trainee, supervisor = await _setup(storage, clock)
    other = await new_agent(storage, "sam")
    held = await _hold(storage, handoff, trainee, "hi", clock.now())

    async def decide(agent_id: int, status: HeldReplyStatus) -> bool:
        async with storage.uow() as uow:
            won = await uow.held_replies.decide(held.id, status, agent_id, clock.now(), None)
            await uow.commit()
        return won

    results = await asyncio.gather(decide(supervisor.id, APPROVED), decide(other.id, REJECTED))
    assert sorted(results) == [False, True]
    async with storage.uow() as uow:
        loaded = await uow.held_replies.get(held.id)
    assert loaded is not None
    assert (loaded.status, loaded.decided_by) == (
        (APPROVED, supervisor.id) if results[0] else (REJECTED, other.id)
    )


async def test_datetimes_must_be_aware(storage: Storage, clock: FakeClock) -> None:
    handoff, trainee, supervisor = await _setup(storage, clock)
    held = await _hold(storage, handoff, trainee, "hi", clock.now())
    naive = datetime(2026, 1, 1)
    async with storage.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.held_replies.decide(held.id, APPROVED, supervisor.id, naive, None)
