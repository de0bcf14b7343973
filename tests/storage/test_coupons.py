"""Coupon pools: loading, handing out once per contact, and concurrent hand-outs."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.domain.clock import FakeClock
from bot.storage.uow import Storage

from .factories import new_contact


async def _load(storage: Storage, pool: str, *codes: str) -> int:
    async with storage.uow() as uow:
        added = await uow.coupons.load(pool, codes)
        await uow.commit()
    return added


async def test_load_skips_codes_already_in_the_pool(storage: Storage) -> None:
    assert await _load(storage, "spring") == 0
    assert await _load(storage, "spring", "A1", "A2", "A1") == 2
    assert await _load(storage, "spring", "A2", "A3") == 1
    # The same code in another pool is another code.
    assert await _load(storage, "autumn", "A1") == 1
    async with storage.uow() as uow:
        assert await uow.coupons.remaining("spring") == 3
        assert await uow.coupons.remaining("autumn") == 1
        assert await uow.coupons.remaining("winter") == 0


async def test_assign_hands_out_one_code_per_contact_per_pool(
    storage: Storage, clock: FakeClock
) -> None:
    ada, bob, cy = [await new_contact(storage, name) for name in ("Ada", "Bob", "Cy")]
    await _load(storage, "spring", "S1", "S2")
    await _load(storage, "autumn", "F1")
    async with storage.uow() as uow:
        assert await uow.coupons.assign("spring", ada.id, clock.now()) == "S1"
        assert await uow.coupons.assign("spring", ada.id, clock.now()) == "S1"
        assert await uow.coupons.assign("autumn", ada.id, clock.now()) == "F1"
        assert await uow.coupons.assign("spring", bob.id, clock.now()) == "S2"
        assert await uow.coupons.remaining("spring") == 0
        # An empty pool: nothing for a newcomer, still the same code for the others.
        assert await uow.coupons.assign("spring", cy.id, clock.now()) is None
        assert await uow.coupons.assign("autumn", bob.id, clock.now()) is None
        assert await uow.coupons.assign("spring", bob.id, clock.now()) == "S2"
        assert await uow.coupons.assign("winter", ada.id, clock.now()) is None
        await uow.commit()
    await _load(storage, "spring", "S3")
    async with storage.uow() as uow:
        assert await uow.coupons.assign("spring", cy.id, clock.now()) == "S3"
        assert await uow.coupons.remaining("spring") == 0


async def test_a_rolled_back_assignment_frees_the_code(storage: Storage, clock: FakeClock) -> None:
    ada, bob = await new_contact(storage, "Ada"), await new_contact(storage, "Bob")
    await _load(storage, "spring", "S1", "S2")
    async with storage.uow() as uow:
        assert await uow.coupons.assign("spring", ada.id, clock.now()) == "S1"
    async with storage.uow() as uow:
        assert await uow.coupons.assign("spring", bob.id, clock.now()) == "S1"
        assert await uow.coupons.remaining("spring") == 1


def _postgresql_only(storage: Storage) -> None:
    if storage.dialect != "postgresql":
        pytest.skip("two transactions open at once need row locks (PostgreSQL)")


async def test_concurrent_assigns_on_postgresql_never_share_a_code(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    ada, bob = await new_contact(storage, "Ada"), await new_contact(storage, "Bob")
    await _load(storage, "spring", "S1", "S2", "S3")
    async with storage.uow() as first, storage.uow() as second:
        mine = await first.coupons.assign("spring", ada.id, clock.now())
        # `first` holds S1 uncommitted: skipped, not waited for (a wait would time out here).
        theirs = await asyncio.wait_for(second.coupons.assign("spring", bob.id, clock.now()), 5)
        await first.commit()
        await second.commit()
    assert (mine, theirs) == ("S1", "S2")
    async with storage.uow() as uow:
        assert await uow.coupons.remaining("spring") == 1


async def test_concurrent_assigns_for_one_contact_on_postgresql_give_one_code(
    storage: Storage, clock: FakeClock
) -> None:
    _postgresql_only(storage)
    ada = await new_contact(storage, "Ada")
    await _load(storage, "spring", "S1", "S2")

    async def assign_later() -> str | None:
        async with storage.uow() as uow:
            code = await uow.coupons.assign("spring", ada.id, clock.now())
            await uow.commit()
        return code

    async with storage.uow() as first:
        mine = await first.coupons.assign("spring", ada.id, clock.now())
        second = asyncio.create_task(assign_later())
        await asyncio.wait_for(_someone_waits_for_an_advisory_lock(storage), 5)
        assert not second.done()
        await first.commit()
    assert mine == "S1"
    assert await asyncio.wait_for(second, 5) == "S1"
    async with storage.uow() as uow:
        assert await uow.coupons.remaining("spring") == 1


async def _someone_waits_for_an_advisory_lock(storage: Storage) -> None:
    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    while True:
        async with storage.engine.connect() as conn:
            if (await conn.execute(waiting)).scalar_one():
                return
        await asyncio.sleep(0.01)


async def test_many_contacts_assigned_at_once_get_distinct_codes(
    storage: Storage, clock: FakeClock
) -> None:
    contacts = [await new_contact(storage, f"c{index}") for index in range(12)]
    await _load(storage, "spring", *(f"S{index}" for index in range(10)))

    async def assign(contact_id: int) -> str | None:
        async with storage.uow() as uow:
            code = await uow.coupons.assign("spring", contact_id, clock.now())
            await uow.commit()
        return code

    codes = await asyncio.gather(*(assign(contact.id) for contact in contacts))
    given = [code for code in codes if code is not None]
    assert len(given) == len(set(given)) == 10
    assert codes.count(None) == 2
