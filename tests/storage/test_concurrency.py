"""Several workers claiming at once never get the same row."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, OutboxStatus
from bot.storage.uow import Storage

from .factories import add_drafts, draft, new_contact


def _postgresql_only(storage: Storage) -> None:
    if storage.dialect != "postgresql":
        # SQLite has one writer at a time: a second open claim waits for the first to commit.
        pytest.skip("two claims open at once need row locks (PostgreSQL)")


async def _due_rows(storage: Storage, clock: FakeClock, count: int) -> list[int]:
    contact = await new_contact(storage)
    # One chat per row: a claim skips chats another open claim holds (see outbox_claims).
    drafts = [
        dataclasses.replace(draft(f"row-{index}", contact.id), address=str(2000 + index))
        for index in range(count)
    ]
    return await add_drafts(storage, clock.now(), *drafts)


async def test_two_open_claims_on_postgresql_get_different_rows(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    ids = await _due_rows(storage, clock, 6)
    async with storage.uow() as first, storage.uow() as second:
        mine = await first.outbox.claim_due(clock.now(), 4)
        # `first` has not committed: its rows are locked, and skipped rather than waited for.
        theirs = await second.outbox.claim_due(clock.now(), 4)
        await first.commit()
        await second.commit()
    assert [row.id for row in mine] == ids[:4]
    assert [row.id for row in theirs] == ids[4:]


async def test_an_aborted_claim_on_postgresql_frees_its_rows(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    ids = await _due_rows(storage, clock, 2)
    async with storage.uow() as first:
        assert [row.id for row in await first.outbox.claim_due(clock.now(), 2)] == ids
        async with storage.uow() as second:
            assert await second.outbox.claim_due(clock.now(), 2) == []
        await first.rollback()
        async with storage.uow() as third:
            assert [row.id for row in await third.outbox.claim_due(clock.now(), 2)] == ids


async def test_two_open_inbound_claims_on_postgresql_get_different_updates(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    async with storage.uow() as uow:
        for key in ("1", "2", "3"):  # three customers: three conversations
            await uow.inbound.add(
                Channel.TELEGRAM, key, {}, clock.now(), conversation_key=f"telegram:{key}"
            )
        await uow.commit()
    async with storage.uow() as first, storage.uow() as second:
        mine = await first.inbound.claim_pending(2)
        theirs = await second.inbound.claim_pending(2)
    assert [u.external_key for u in mine] == ["1", "2"]
    assert [u.external_key for u in theirs] == ["3"]


async def test_many_workers_share_the_due_rows_without_overlap(
    storage: Storage, clock: FakeClock
) -> None:
    ids = await _due_rows(storage, clock, 40)

    async def worker() -> list[int]:
        taken: list[int] = []
        while True:
            async with storage.uow() as uow:
                batch = await uow.outbox.claim_due(clock.now(), 3)
                for row in batch:
                    await uow.outbox.finish(row.id, OutboxStatus.SENT, clock.now())
                await uow.commit()
            if not batch:
                return taken
            taken += [row.id for row in batch]
            await asyncio.sleep(0)  # let the other workers interleave

    results = await asyncio.gather(*(worker() for _ in range(4)))
    claimed = [row_id for result in results for row_id in result]
    assert sorted(claimed) == ids  # every row once, none twice
    async with storage.uow() as uow:
        assert (await uow.outbox.count_by_status())[OutboxStatus.SENT] == len(ids)
