"""Claims of several workers on PostgreSQL: one worker per chat (outbox) and per conversation
(inbox), a conversation's updates in order, and a lease per claimed outbox row."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, OutboxStatus
from bot.storage.repositories.outbox import STALE_SENDING_REASON
from bot.storage.uow import Storage
from tests.storage.factories import add_drafts, draft, new_contact

LEASE = timedelta(minutes=2)


def _postgresql_only(storage: Storage) -> None:
    if storage.dialect != "postgresql":
        pytest.skip("two claims open at once need row locks (PostgreSQL)")


async def _rows(storage: Storage, clock: FakeClock, *chats: str) -> list[int]:
    contact = await new_contact(storage)
    drafts = [
        dataclasses.replace(draft(f"row-{index}", contact.id), address=chat)
        for index, chat in enumerate(chats)
    ]
    return await add_drafts(storage, clock.now(), *drafts)


async def _updates(storage: Storage, clock: FakeClock, *conversations: str) -> None:
    async with storage.uow() as uow:
        for index, conversation in enumerate(conversations):
            await uow.inbound.add(
                Channel.TELEGRAM, str(index), {}, clock.now(), conversation_key=conversation
            )
        await uow.commit()


def _keys(updates: list) -> list[str]:  # type: ignore[type-arg]
    return [update.external_key for update in updates]


async def test_a_chat_being_sent_by_one_worker_is_skipped_by_another(
    storage: Storage, clock: FakeClock
) -> None:
    ids = await _rows(storage, clock, "1", "1", "2")
    until = clock.now() + LEASE
    async with storage.uow() as uow:
        mine = await uow.outbox.claim_due(clock.now(), 1, worker="a", lease_until=until)
        await uow.commit()
    async with storage.uow() as uow:
        # Chat 1 has a row SENDING by worker a: b must not send its next message meanwhile.
        theirs = await uow.outbox.claim_due(clock.now(), 10, worker="b", lease_until=until)
        await uow.commit()
    assert [row.id for row in mine] == [ids[0]]
    assert [row.id for row in theirs] == [ids[2]]
    assert (mine[0].status, mine[0].reason) == (OutboxStatus.SENDING, None)
    async with storage.uow() as uow:
        await uow.outbox.finish(ids[0], OutboxStatus.SENT, clock.now())
        after = await uow.outbox.claim_due(clock.now(), 10, worker="b", lease_until=until)
        await uow.commit()
    assert [row.id for row in after] == [ids[1]]


async def test_two_open_claims_never_split_one_chat(storage: Storage, clock: FakeClock) -> None:
    _postgresql_only(storage)
    ids = await _rows(storage, clock, "1", "2", "1", "3")
    until = clock.now() + LEASE
    async with storage.uow() as first, storage.uow() as second:
        mine = await first.outbox.claim_due(clock.now(), 2, worker="a", lease_until=until)
        # `first` holds rows 0-1 and the lock of chats 1 and 2: chat 1's row 2 is not for b.
        theirs = await second.outbox.claim_due(clock.now(), 10, worker="b", lease_until=until)
        await first.commit()
        await second.commit()
    assert [row.id for row in mine] == ids[:2]
    assert [row.id for row in theirs] == [ids[3]]


async def test_only_rows_whose_lease_ran_out_become_unknown(
    storage: Storage, clock: FakeClock
) -> None:
    ids = await _rows(storage, clock, "1", "2")
    async with storage.uow() as uow:
        await uow.outbox.claim_due(clock.now(), 1, worker="a", lease_until=clock.now() + LEASE)
        clock.advance(60)
        await uow.outbox.claim_due(clock.now(), 1, worker="b", lease_until=clock.now() + LEASE)
        await uow.commit()
    clock.advance(60)  # a's lease is over (a died), b's has a minute to go
    async with storage.uow() as uow:
        assert await uow.outbox.mark_stale_sending_unknown(clock.now()) == 1
        await uow.commit()
        first, second = [await uow.outbox.get(row_id) for row_id in ids]
    assert first is not None and (first.status, first.reason) == (
        OutboxStatus.UNKNOWN,
        STALE_SENDING_REASON,
    )
    assert second is not None and second.status is OutboxStatus.SENDING


async def test_one_conversation_is_handled_by_one_worker_at_a_time(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    await _updates(storage, clock, "x", "y", "x", "z")
    async with storage.uow() as first, storage.uow() as second:
        mine = await first.inbound.claim_pending(1)
        theirs = await second.inbound.claim_pending(10)
    assert _keys(mine) == ["0"]
    assert _keys(theirs) == ["1", "3"]  # not "2": conversation x is held by the first


async def test_a_newer_update_waits_for_an_older_one_another_worker_holds(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    await _updates(storage, clock, "x", "x", "x")
    async with storage.uow() as first:
        [oldest] = await first.inbound.claim_pending(1)
        async with storage.uow() as second:
            # b locks update 1 while reading candidates but cannot take conversation x.
            assert await second.inbound.claim_pending(1) == []
            await first.inbound.mark(oldest.id, True, None, clock.now())
            await first.commit()
            # a is free again, but update 1 is still row-locked by b: 2 must not overtake it.
            assert await first.inbound.claim_pending(10) == []
            await first.rollback()
        assert _keys(await first.inbound.claim_pending(10)) == ["1", "2"]


async def test_updates_without_a_conversation_key_are_handled_in_order(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    async with storage.uow() as uow:
        for key in ("1", "2"):
            await uow.inbound.add(Channel.TELEGRAM, key, {}, clock.now())
        await uow.commit()
    async with storage.uow() as first, storage.uow() as second:
        assert _keys(await first.inbound.claim_pending(1)) == ["1"]
        assert await second.inbound.claim_pending(10) == []


async def test_a_starting_worker_leaves_the_rows_of_a_live_one_alone(
    storage: Storage, clock: FakeClock
) -> None:
    from bot.delivery.dispatcher import SETTLE_EVERY, Dispatcher
    from bot.delivery.ratelimit import RateLimiter, RateLimits
    from bot.delivery.retry import RetryPolicy

    def worker(name: str) -> Dispatcher:
        limiter = RateLimiter(RateLimits(25, 1, 20, enabled=False), clock)
        return Dispatcher(
            storage.uow, {}, {Channel.TELEGRAM: limiter}, clock, RetryPolicy(),
            worker_id=name, lease=LEASE,
        )  # fmt: skip

    [row_id] = await _rows(storage, clock, "1")
    async with storage.uow() as uow:  # worker a claimed the row and is sending it
        await uow.outbox.claim_due(clock.now(), 1, worker="a", lease_until=clock.now() + LEASE)
        await uow.commit()
    b = worker("b")
    assert await b.recover() == 0  # b starts: a's row is a's while its lease runs
    clock.advance(LEASE)  # a died mid-send: its lease ends
    clock.advance(SETTLE_EVERY)
    await b.tick()  # b settles it on its next periodic recovery
    async with storage.uow() as uow:
        row = await uow.outbox.get(row_id)
    assert row is not None and row.status is OutboxStatus.UNKNOWN
