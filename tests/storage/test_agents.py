"""Agents on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from bot.domain.clock import FakeClock
from bot.domain.handoff import Agent, AgentRole, HandoffStatus
from bot.storage.uow import Storage

from .factories import new_agent, new_chat, new_handoff


async def test_upsert_inserts_and_every_lookup_finds_it(storage: Storage, clock: FakeClock) -> None:
    wanted = Agent(
        id=999,  # ignored: the database gives the id
        key="boris",
        name="Boris",
        role=AgentRole.SUPERVISOR,
        telegram_user_id=-1_000_000_000_001,  # beyond 32 bits
        languages=["ru", "en"],
        teams=["billing"],
        max_chats=3,
        trainee=True,
        active=False,
        password_hash="scrypt$hash",
        last_assigned_at=clock.now(),
    )
    async with storage.uow() as uow:
        stored = await uow.agents.upsert(wanted)
        await uow.commit()
    assert stored.id != 999
    wanted.id = stored.id
    assert stored == wanted
    async with storage.uow() as uow:
        assert await uow.agents.get(stored.id) == wanted
        assert await uow.agents.get_by_key("boris") == wanted
        assert await uow.agents.get_by_telegram_user(-1_000_000_000_001) == wanted
        assert await uow.agents.get(stored.id + 1000) is None
        assert await uow.agents.get_by_key("nobody") is None
        assert await uow.agents.get_by_telegram_user(7) is None


async def test_defaults_round_trip(storage: Storage) -> None:
    stored = await new_agent(storage, "ann")
    async with storage.uow() as uow:
        loaded = await uow.agents.get(stored.id)
    assert loaded == Agent(id=stored.id, key="ann", name="Ann")
    assert loaded is not None and not loaded.is_supervisor


async def test_upsert_on_an_existing_key_keeps_id_password_and_rotation(
    storage: Storage, clock: FakeClock
) -> None:
    first = await new_agent(storage, "alice", telegram_user_id=11, password_hash="secret-hash")
    async with storage.uow() as uow:
        await uow.agents.mark_assigned(first.id, clock.now())
        await uow.commit()
    other = await new_agent(storage, "bob")

    # What a restart re-reading config.yaml does: no password, no rotation mark, a stale id.
    changed = Agent(
        id=other.id,
        key="alice",
        name="Alice L.",
        role=AgentRole.SUPERVISOR,
        telegram_user_id=12,
        languages=["ro"],
        teams=["sales", "vip"],
        max_chats=8,
        trainee=True,
        active=False,
    )
    async with storage.uow() as uow:
        stored = await uow.agents.upsert(changed)
        await uow.commit()
    async with storage.uow() as uow:
        loaded = await uow.agents.get(first.id)
        everyone = await uow.agents.list_all()

    assert stored == loaded
    assert loaded is not None
    assert (loaded.id, loaded.password_hash) == (first.id, "secret-hash")
    assert loaded.last_assigned_at == clock.now()
    assert (loaded.name, loaded.role, loaded.telegram_user_id) == (
        "Alice L.",
        AgentRole.SUPERVISOR,
        12,
    )
    assert (loaded.languages, loaded.teams, loaded.max_chats) == (["ro"], ["sales", "vip"], 8)
    assert (loaded.trainee, loaded.active) == (True, False)
    assert [agent.key for agent in everyone] == ["alice", "bob"]


async def test_list_all_is_ordered_by_id_and_can_leave_out_inactive_agents(
    storage: Storage,
) -> None:
    zed = await new_agent(storage, "zed")
    amy = await new_agent(storage, "amy", active=False)
    kim = await new_agent(storage, "kim")
    async with storage.uow() as uow:
        everyone = await uow.agents.list_all()
        active = await uow.agents.list_all(active_only=True)
    assert [agent.id for agent in everyone] == [zed.id, amy.id, kim.id]
    assert [agent.id for agent in active] == [zed.id, kim.id]


async def test_set_password_active_and_mark_assigned(storage: Storage, clock: FakeClock) -> None:
    agent = await new_agent(storage)
    assigned_at = clock.now() + timedelta(minutes=5)
    async with storage.uow() as uow:
        await uow.agents.set_password_hash(agent.id, "h1")
        await uow.agents.set_active(agent.id, False)
        await uow.agents.mark_assigned(agent.id, assigned_at)
        await uow.commit()
    async with storage.uow() as uow:
        changed = await uow.agents.get(agent.id)
        await uow.agents.set_password_hash(agent.id, None)
        await uow.agents.set_active(agent.id, True)
        await uow.commit()
    async with storage.uow() as uow:
        back = await uow.agents.get(agent.id)
    assert changed is not None and back is not None
    assert (changed.password_hash, changed.active, changed.last_assigned_at) == (
        "h1",
        False,
        assigned_at,
    )
    assert (back.password_hash, back.active, back.last_assigned_at) == (None, True, assigned_at)


async def test_telegram_user_ids_are_unique_but_may_be_missing(storage: Storage) -> None:
    await new_agent(storage, "a", telegram_user_id=5)
    await new_agent(storage, "b")
    await new_agent(storage, "c")  # a second agent without Telegram is fine
    async with storage.uow() as uow:
        with pytest.raises(IntegrityError):
            await uow.agents.upsert(Agent(id=0, key="d", name="D", telegram_user_id=5))


async def test_open_chat_counts_count_offered_and_active_chats(
    storage: Storage, clock: FakeClock
) -> None:
    busy, idle, gone = [await new_agent(storage, key) for key in ("busy", "idle", "gone")]
    at = clock.now()
    for status in (HandoffStatus.OFFERED, HandoffStatus.ACTIVE, HandoffStatus.ACTIVE):
        await new_handoff(storage, await new_chat(storage, at), at, status=status, agent_id=busy.id)
    await new_handoff(
        storage, await new_chat(storage, at), at, status=HandoffStatus.CLOSED, agent_id=idle.id
    )
    # A queued hand-off may remember an agent (a declined offer put back): not their load.
    await new_handoff(
        storage, await new_chat(storage, at), at, status=HandoffStatus.QUEUED, agent_id=gone.id
    )
    await new_handoff(storage, await new_chat(storage, at), at)  # nobody's
    async with storage.uow() as uow:
        counts = await uow.agents.open_chat_counts()
    assert counts == {busy.id: 3, idle.id: 0, gone.id: 0}


async def test_open_chat_counts_without_agents(storage: Storage) -> None:
    async with storage.uow() as uow:
        assert await uow.agents.open_chat_counts() == {}


async def test_datetimes_must_be_aware(storage: Storage) -> None:
    agent = await new_agent(storage)
    async with storage.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.agents.mark_assigned(agent.id, datetime(2026, 1, 1))
