"""Hand-offs on SQLite and PostgreSQL: storage, the queue's order and the timers' sweeps."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from bot.domain.clock import FakeClock
from bot.domain.handoff import CloseReason, Handoff, HandoffReason, HandoffStatus
from bot.domain.model import Conversation
from bot.storage.uow import Storage

from .factories import handoff_for, new_agent, new_chat, new_contact, new_handoff

MINUTE = timedelta(minutes=1)
QUEUED, OFFERED, ACTIVE, CLOSED = (
    HandoffStatus.QUEUED,
    HandoffStatus.OFFERED,
    HandoffStatus.ACTIVE,
    HandoffStatus.CLOSED,
)


async def _full_handoff(storage: Storage, chat: Conversation, at: datetime) -> Handoff:
    """A hand-off with every optional field set, not stored."""
    alice, bob = await new_agent(storage, "alice"), await new_agent(storage, "bob")
    return handoff_for(
        chat,
        at,
        team="billing",
        language="ru",
        reason=HandoffReason.COMPLAINT,
        status=CLOSED,
        priority=10,
        sla_due_at=at + 5 * MINUTE,
        agent_id=alice.id,
        offered_at=at + MINUTE,
        offer_expires_at=at + 2 * MINUTE,
        declined_by=[bob.id, alice.id],
        taken_at=at + 2 * MINUTE,
        first_response_at=at + 3 * MINUTE,
        sla_breached_at=at + 6 * MINUTE,
        last_activity_at=at + 7 * MINUTE,
        closed_at=at + 8 * MINUTE,
        closed_by=bob.id,
        close_reason=CloseReason.BACK_TO_BOT,
        desk_chat_id=-1_001_234_567_890,
        desk_thread_id=77,
        desk_title="🟢 Ada · telegram",
        summary="Parcel arrived broken",
    )


async def test_add_and_get_round_trip_every_field(storage: Storage, clock: FakeClock) -> None:
    chat = await new_chat(storage, clock.now())
    wanted = await _full_handoff(storage, chat, clock.now())
    async with storage.uow() as uow:
        stored = await uow.handoffs.add(wanted)
        minimal = await uow.handoffs.add(handoff_for(chat, clock.now()))
        await uow.commit()
    async with storage.uow() as uow:
        loaded = await uow.handoffs.get(stored.id)
        loaded_minimal = await uow.handoffs.get(minimal.id)
        assert await uow.handoffs.get(minimal.id + 1000) is None
    assert stored.id > 0 and minimal.id > stored.id
    assert loaded == stored == replace(wanted, id=stored.id)
    assert loaded_minimal == minimal == handoff_for(chat, clock.now(), id=minimal.id)
    assert loaded is not None and loaded.sla_due_at is not None
    assert loaded.sla_due_at.tzinfo is not None


async def test_update_writes_every_field_but_the_owners(storage: Storage, clock: FakeClock) -> None:
    chat = await new_chat(storage, clock.now())
    plain = await new_handoff(storage, chat, clock.now())
    other_chat = await new_chat(storage, clock.now(), "Bo")
    full = await _full_handoff(storage, chat, clock.now() + MINUTE)
    # The conversation and the contact are not the update's to change (see `_MUTABLE`).
    changed = replace(
        full, id=plain.id, conversation_id=other_chat.id, contact_id=other_chat.contact_id
    )
    async with storage.uow() as uow:
        await uow.handoffs.update(changed)
        await uow.commit()
    async with storage.uow() as uow:
        loaded = await uow.handoffs.get(plain.id)
    assert loaded == replace(full, id=plain.id)


async def test_open_and_latest_for_a_conversation(storage: Storage, clock: FakeClock) -> None:
    chat, other = await new_chat(storage, clock.now()), await new_chat(storage, clock.now())
    async with storage.uow() as uow:
        assert await uow.handoffs.open_for_conversation(chat.id) is None
        assert await uow.handoffs.latest_for_conversation(chat.id) is None
    closed = await new_handoff(storage, chat, clock.now(), status=CLOSED)
    async with storage.uow() as uow:
        assert await uow.handoffs.open_for_conversation(chat.id) is None
        assert await uow.handoffs.latest_for_conversation(chat.id) == closed
    live = await new_handoff(storage, chat, clock.now(), status=ACTIVE)
    await new_handoff(storage, other, clock.now())
    async with storage.uow() as uow:
        assert await uow.handoffs.open_for_conversation(chat.id) == live
        assert await uow.handoffs.latest_for_conversation(chat.id) == live
    live.status = CLOSED
    async with storage.uow() as uow:
        await uow.handoffs.update(live)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.handoffs.open_for_conversation(chat.id) is None
        assert await uow.handoffs.latest_for_conversation(chat.id) == live


async def test_by_desk_thread_returns_the_latest_of_the_topic(
    storage: Storage, clock: FakeClock
) -> None:
    chat = await new_chat(storage, clock.now())
    desk = {"desk_chat_id": -100_500, "desk_thread_id": 9}
    await new_handoff(storage, chat, clock.now(), status=CLOSED, **desk)
    latest = await new_handoff(storage, chat, clock.now(), status=ACTIVE, **desk)
    await new_handoff(storage, chat, clock.now(), desk_chat_id=-100_500, desk_thread_id=10)
    await new_handoff(storage, chat, clock.now(), desk_chat_id=-100_600, desk_thread_id=9)
    async with storage.uow() as uow:
        assert await uow.handoffs.by_desk_thread(-100_500, 9) == latest
        assert await uow.handoffs.by_desk_thread(-100_500, 11) is None


async def test_transition_is_a_compare_and_set(storage: Storage, clock: FakeClock) -> None:
    agent = await new_agent(storage)
    chat = await new_chat(storage, clock.now())
    queued = await new_handoff(storage, chat, clock.now())
    taken = replace(queued, status=ACTIVE, agent_id=agent.id, taken_at=clock.now())
    async with storage.uow() as uow:
        assert not await uow.handoffs.transition(queued.id, (ACTIVE, CLOSED), taken)
        assert not await uow.handoffs.transition(queued.id, (), taken)
        assert not await uow.handoffs.transition(queued.id + 1000, (QUEUED,), taken)
        assert await uow.handoffs.get(queued.id) == queued
        assert await uow.handoffs.transition(queued.id, (QUEUED, OFFERED), taken)
        assert not await uow.handoffs.transition(queued.id, (QUEUED, OFFERED), taken)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.handoffs.get(queued.id) == taken


def _take(handoff: Handoff, agent_id: int, at: datetime) -> Handoff:
    return replace(handoff, status=ACTIVE, agent_id=agent_id, taken_at=at)


async def test_two_agents_taking_at_once_one_wins(storage: Storage, clock: FakeClock) -> None:
    """Each take in its own transaction, started together: on PostgreSQL they run concurrently,
    on SQLite one after the other under the write lock. Either way exactly one wins."""
    alice, bob = await new_agent(storage, "alice"), await new_agent(storage, "bob")
    offered = await new_handoff(storage, await new_chat(storage, clock.now()), clock.now())

    async def take(agent_id: int) -> bool:
        async with storage.uow() as uow:
            won = await uow.handoffs.transition(
                offered.id, (QUEUED, OFFERED), _take(offered, agent_id, clock.now())
            )
            await uow.commit()
        return won

    results = await asyncio.gather(take(alice.id), take(bob.id))
    assert sorted(results) == [False, True]
    winner = alice.id if results[0] else bob.id
    async with storage.uow() as uow:
        stored = await uow.handoffs.get(offered.id)
    assert stored is not None and (stored.status, stored.agent_id) == (ACTIVE, winner)


async def _until_a_query_waits_for_a_lock(storage: Storage) -> None:
    """Poll pg_locks (each poll a fresh transaction) until some query is waiting for a lock."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 10
    async with storage.engine.connect() as conn:
        while loop.time() < give_up:
            waiting = await conn.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            await conn.rollback()
            if waiting:
                return
            await asyncio.sleep(0.01)  # the rival's statement is in flight: give it the loop
    raise AssertionError("the rival UPDATE never waited for the row lock")


async def test_an_uncommitted_take_makes_the_rival_wait_then_lose_on_postgresql(
    storage: Storage, clock: FakeClock
) -> None:
    if storage.dialect != "postgresql":
        pytest.skip("two open writers need row locks (PostgreSQL); SQLite has one writer")
    alice, bob = await new_agent(storage, "alice"), await new_agent(storage, "bob")
    offered = await new_handoff(storage, await new_chat(storage, clock.now()), clock.now())
    expected = (QUEUED, OFFERED)
    async with storage.uow() as first, storage.uow() as second:
        assert await first.handoffs.transition(
            offered.id, expected, _take(offered, alice.id, clock.now())
        )
        rival = asyncio.create_task(
            second.handoffs.transition(offered.id, expected, _take(offered, bob.id, clock.now()))
        )
        await _until_a_query_waits_for_a_lock(storage)
        assert not rival.done()
        await first.commit()
        assert not await rival
        await second.commit()
    async with storage.uow() as uow:
        stored = await uow.handoffs.get(offered.id)
    assert stored is not None and stored.agent_id == alice.id


async def test_open_is_in_queue_order(storage: Storage, clock: FakeClock) -> None:
    chat, start = await new_chat(storage, clock.now()), clock.now()
    old_low = await new_handoff(storage, chat, start, priority=0)
    new_high = await new_handoff(storage, chat, start + 2 * MINUTE, priority=5, status=ACTIVE)
    old_high = await new_handoff(storage, chat, start + MINUTE, priority=5, status=OFFERED)
    same_time = await new_handoff(storage, chat, start + MINUTE, priority=5)
    await new_handoff(storage, chat, start - MINUTE, priority=9, status=CLOSED)
    new_low = await new_handoff(storage, chat, start + 3 * MINUTE, priority=0)
    async with storage.uow() as uow:
        everything = await uow.handoffs.open()
        first_two = await uow.handoffs.open(limit=2)
    order = [old_high.id, same_time.id, new_high.id, old_low.id, new_low.id]
    assert [handoff.id for handoff in everything] == order
    assert [handoff.id for handoff in first_two] == order[:2]


async def test_queued_leaves_out_offered_and_active(storage: Storage, clock: FakeClock) -> None:
    chat, start = await new_chat(storage, clock.now()), clock.now()
    # Stored out of request order: the queue goes by request time, not by id.
    newer = await new_handoff(storage, chat, start + MINUTE, priority=1)
    await new_handoff(storage, chat, start, priority=9, status=OFFERED)
    await new_handoff(storage, chat, start, priority=9, status=ACTIVE)
    await new_handoff(storage, chat, start, priority=9, status=CLOSED)
    vip = await new_handoff(storage, chat, start + MINUTE, priority=3)
    older = await new_handoff(storage, chat, start, priority=1)
    async with storage.uow() as uow:
        queued = await uow.handoffs.queued()
        first = await uow.handoffs.queued(limit=1)
    assert [handoff.id for handoff in queued] == [vip.id, older.id, newer.id]
    assert [handoff.id for handoff in first] == [vip.id]


async def test_open_for_agent(storage: Storage, clock: FakeClock) -> None:
    alice, bob = await new_agent(storage, "alice"), await new_agent(storage, "bob")
    chat, at = await new_chat(storage, clock.now()), clock.now()
    active = await new_handoff(storage, chat, at, status=ACTIVE, agent_id=alice.id)
    offered = await new_handoff(storage, chat, at, status=OFFERED, agent_id=alice.id, priority=2)
    await new_handoff(storage, chat, at, status=CLOSED, agent_id=alice.id)
    await new_handoff(storage, chat, at, status=ACTIVE, agent_id=bob.id)
    async with storage.uow() as uow:
        mine = await uow.handoffs.open_for_agent(alice.id)
    assert [handoff.id for handoff in mine] == [offered.id, active.id]


async def test_offers_expired(storage: Storage, clock: FakeClock) -> None:
    chat, now = await new_chat(storage, clock.now()), clock.now()
    later = await new_handoff(storage, chat, now, status=OFFERED, offer_expires_at=now - MINUTE)
    earlier = await new_handoff(
        storage, chat, now, status=OFFERED, offer_expires_at=now - 2 * MINUTE
    )
    exactly_now = await new_handoff(storage, chat, now, status=OFFERED, offer_expires_at=now)
    await new_handoff(storage, chat, now, status=OFFERED, offer_expires_at=now + MINUTE)
    await new_handoff(storage, chat, now, status=OFFERED)  # no deadline
    for status in (QUEUED, ACTIVE, CLOSED):  # taken or put back since: not an open offer
        await new_handoff(storage, chat, now, status=status, offer_expires_at=now - MINUTE)
    async with storage.uow() as uow:
        expired = await uow.handoffs.offers_expired(now)
        first = await uow.handoffs.offers_expired(now, limit=1)
    assert [handoff.id for handoff in expired] == [earlier.id, later.id, exactly_now.id]
    assert [handoff.id for handoff in first] == [earlier.id]


async def test_sla_breaches_due(storage: Storage, clock: FakeClock) -> None:
    chat, now = await new_chat(storage, clock.now()), clock.now()
    past = now - MINUTE
    due = [
        await new_handoff(storage, chat, now, status=status, sla_due_at=past)
        for status in (QUEUED, OFFERED, ACTIVE)
    ]
    oldest = await new_handoff(storage, chat, now, sla_due_at=now - 9 * MINUTE)
    exactly_now = await new_handoff(storage, chat, now, sla_due_at=now)
    await new_handoff(storage, chat, now, sla_due_at=now + MINUTE)  # not yet
    await new_handoff(storage, chat, now)  # no SLA
    await new_handoff(storage, chat, now, sla_due_at=past, status=CLOSED)
    await new_handoff(storage, chat, now, sla_due_at=past, first_response_at=past)
    await new_handoff(storage, chat, now, sla_due_at=past, sla_breached_at=now)
    async with storage.uow() as uow:
        breaches = await uow.handoffs.sla_breaches_due(now)
        first_two = await uow.handoffs.sla_breaches_due(now, limit=2)
    order = [oldest.id, *(handoff.id for handoff in due), exactly_now.id]
    assert [handoff.id for handoff in breaches] == order
    assert [handoff.id for handoff in first_two] == order[:2]


async def test_idle_since(storage: Storage, clock: FakeClock) -> None:
    chat, now = await new_chat(storage, clock.now()), clock.now()
    cutoff = now - 30 * MINUTE
    quiet = await new_handoff(storage, chat, now, status=ACTIVE, last_activity_at=cutoff - MINUTE)
    quietest = await new_handoff(
        storage, chat, now, status=ACTIVE, last_activity_at=cutoff - 9 * MINUTE
    )
    at_cutoff = await new_handoff(storage, chat, now, status=ACTIVE, last_activity_at=cutoff)
    await new_handoff(storage, chat, now, status=ACTIVE, last_activity_at=cutoff + MINUTE)
    await new_handoff(storage, chat, now, status=ACTIVE)  # nothing recorded yet
    for status in (QUEUED, OFFERED, CLOSED):
        await new_handoff(storage, chat, now, status=status, last_activity_at=cutoff - MINUTE)
    async with storage.uow() as uow:
        idle = await uow.handoffs.idle_since(cutoff)
        first = await uow.handoffs.idle_since(cutoff, limit=1)
    assert [handoff.id for handoff in idle] == [quietest.id, quiet.id, at_cutoff.id]
    assert [handoff.id for handoff in first] == [quietest.id]


async def test_recent_closed_latest_first(storage: Storage, clock: FakeClock) -> None:
    chat, now = await new_chat(storage, clock.now()), clock.now()
    earlier = await new_handoff(storage, chat, now, status=CLOSED, closed_at=now - MINUTE)
    latest = await new_handoff(storage, chat, now - MINUTE, status=CLOSED, closed_at=now)
    await new_handoff(storage, chat, now, status=ACTIVE)
    async with storage.uow() as uow:
        closed = await uow.handoffs.recent_closed()
        one = await uow.handoffs.recent_closed(limit=1)
    assert [handoff.id for handoff in closed] == [latest.id, earlier.id]
    assert [handoff.id for handoff in one] == [latest.id]


async def test_merging_contacts_moves_their_handoffs(storage: Storage, clock: FakeClock) -> None:
    chat = await new_chat(storage, clock.now(), "Web visitor")
    target = await new_contact(storage)
    handoff = await new_handoff(storage, chat, clock.now())
    async with storage.uow() as uow:
        await uow.contacts.merge_into(chat.contact_id, target.id)
        await uow.commit()
    async with storage.uow() as uow:
        moved = await uow.handoffs.get(handoff.id)
        assert await uow.contacts.get(chat.contact_id) is None
    assert moved == replace(handoff, contact_id=target.id)


async def test_datetimes_must_be_aware(storage: Storage, clock: FakeClock) -> None:
    chat = await new_chat(storage, clock.now())
    naive = datetime(2026, 1, 1)
    async with storage.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.handoffs.add(handoff_for(chat, clock.now(), taken_at=naive))
    async with storage.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.handoffs.offers_expired(naive)
