"""Enrollments: storage of every field, the due claim with its lease, compare-and-set saves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.clock import FakeClock
from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.storage.uow import Storage

from .factories import enrollment_for, new_contact, new_enrollment

LEASE = timedelta(minutes=5)


async def test_add_and_get_keep_every_field(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    at = clock.now()
    item = enrollment_for(
        contact.id,
        at + timedelta(hours=1),
        status=EnrollmentStatus.WAITING_REPLY,
        step_id="ask",
        resume_step_id=None,
        entered_at=at,
        updated_at=at + timedelta(seconds=1),
        event={"cart": {"total": 12.5, "items": ["ü", "🛒"]}},
        variables={"vars": {"n": 1}, "coupon": {"code": "X1"}},
        variant="b",
        waiting_since=at,
        end_reason="not yet",
    )
    async with storage.uow() as uow:
        added = await uow.enrollments.add(item)
        await uow.commit()
    assert added.id > 0 and added.version == 0
    assert item.id == 0  # the caller's object is left alone
    async with storage.uow() as uow:
        assert await uow.enrollments.get(added.id) == added
        assert await uow.enrollments.get(added.id + 1000) is None
    fields = (added.funnel_id, added.contact_id, added.status, added.step_id, added.due_at)
    assert fields == ("welcome", contact.id, EnrollmentStatus.WAITING_REPLY, "ask", item.due_at)
    assert (added.event, added.variables, added.variant) == (item.event, item.variables, "b")


async def test_add_many_returns_the_ids_in_the_order_given(
    storage: Storage, clock: FakeClock
) -> None:
    contacts = [await new_contact(storage, f"c{index}") for index in range(5)]
    # A timezone other than UTC and several timestamps: each is stored as the same instant.
    local = datetime(2026, 3, 1, 12, 30, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
    items = [
        enrollment_for(
            contact.id,
            local + timedelta(minutes=index),
            funnel_id=f"f{index % 2}",
            step_id=f"шаг-{index}",
            variables={"i": index, "name": "Zoë 🛒 <b>{{ x }}</b>", "price": 12.5},
            ended_at=None if index else local,
        )
        for index, contact in enumerate(reversed(contacts))
    ]
    async with storage.uow() as uow:
        assert await uow.enrollments.add_many([]) == []
        ids = await uow.enrollments.add_many(items)
        await uow.commit()
    assert len(ids) == 5 and ids == sorted(ids)
    async with storage.uow() as uow:
        for new_id, item in zip(ids, items, strict=True):
            stored = await uow.enrollments.get(new_id)
            item.id = new_id
            assert stored == item
            assert stored is not None and stored.due_at is not None
            assert stored.due_at.tzinfo is UTC


async def test_open_and_last_for_a_contact(storage: Storage, clock: FakeClock) -> None:
    ada, bob = await new_contact(storage, "Ada"), await new_contact(storage, "Bob")
    at = clock.now()
    done = await new_enrollment(storage, ada.id, at, status=EnrollmentStatus.COMPLETED, due_at=None)
    waiting = await new_enrollment(
        storage, ada.id, at, funnel_id="cart", status=EnrollmentStatus.WAITING_REPLY
    )
    running = await new_enrollment(storage, ada.id, at)
    await new_enrollment(storage, bob.id, at)
    async with storage.uow() as uow:
        repo = uow.enrollments
        assert await repo.open_for_contact(ada.id) == [waiting, running]
        assert await repo.open_for(ada.id, "welcome") == running
        assert await repo.open_for(ada.id, "cart") == waiting
        assert await repo.open_for(ada.id, "other") is None
        assert await repo.last_for(ada.id, "welcome") == running
        assert await repo.last_for(bob.id, "cart") is None
    async with storage.uow() as uow:
        await uow.enrollments.exit_open_for_contact(ada.id, "opted out", at)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.enrollments.open_for_contact(ada.id) == []
        assert await uow.enrollments.open_for(ada.id, "welcome") is None
        last = await uow.enrollments.last_for(ada.id, "welcome")
    # Re-entry looks at the latest, whatever its status.
    assert last is not None and last.id == running.id and last.id != done.id
    assert last.status is EnrollmentStatus.EXITED


async def test_claim_takes_due_open_rows_oldest_first_and_leases_them(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    now = clock.now()
    later = await new_enrollment(storage, contact.id, now - timedelta(minutes=1))
    oldest = await new_enrollment(
        storage, contact.id, now - timedelta(hours=2), status=EnrollmentStatus.WAITING_REPLY
    )
    middle = await new_enrollment(storage, contact.id, now - timedelta(hours=1))
    await new_enrollment(storage, contact.id, now + timedelta(hours=1))  # not due yet
    closed = {"status": EnrollmentStatus.EXPIRED}
    await new_enrollment(storage, contact.id, now - timedelta(days=1), **closed)
    await new_enrollment(storage, contact.id, now, due_at=None)  # waits without a timeout

    async with storage.uow() as uow:
        assert await uow.enrollments.claim_due(now, 0, now + LEASE) == []
        first = await uow.enrollments.claim_due(now, 2, now + LEASE)
        second = await uow.enrollments.claim_due(now, 10, now + LEASE)
        again = await uow.enrollments.claim_due(now, 10, now + LEASE)
        await uow.commit()

    assert [row.id for row in first] == [oldest.id, middle.id]
    assert [row.id for row in second] == [later.id]
    assert again == []
    # Returned with the due_at the claim found (lateness) and the stored, bumped version.
    assert [row.due_at for row in first + second] == [oldest.due_at, middle.due_at, later.due_at]
    assert {row.version for row in first + second} == {1}
    async with storage.uow() as uow:
        stored = await uow.enrollments.get(oldest.id)
        assert stored is not None and (stored.due_at, stored.version) == (now + LEASE, 1)
        # A worker that died leaves its rows; they are due again once the lease ran out.
        clock.advance(LEASE - timedelta(seconds=1))
        assert await uow.enrollments.claim_due(clock.now(), 10, clock.now() + LEASE) == []
        clock.advance(timedelta(seconds=1))
        back = await uow.enrollments.claim_due(clock.now(), 2, clock.now() + LEASE)
    # All three leases ran out at once: ties go by id.
    assert [row.id for row in back] == [later.id, oldest.id]
    assert [row.due_at for row in back] == [now + LEASE] * 2
    assert {row.version for row in back} == {2}


async def test_save_is_a_compare_and_set_on_the_version(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    now = clock.now()
    added = await new_enrollment(storage, contact.id, now)
    async with storage.uow() as uow:
        (claimed,) = await uow.enrollments.claim_due(now, 1, now + LEASE)
        await uow.commit()
    stale = await _get(storage, added.id)  # as another worker saw it before the lease ran out
    stale.version = 0

    claimed.step_id, claimed.resume_step_id = "offer", None
    claimed.due_at = now + timedelta(days=1)
    claimed.variables = {"vars": {"seen": True}}
    claimed.variant = "a"
    claimed.waiting_since = now
    claimed.updated_at = now + timedelta(seconds=3)
    async with storage.uow() as uow:
        assert await uow.enrollments.save(claimed, 1)
        assert claimed.version == 2
        # The stale worker loses, and its object keeps its version.
        stale.status, stale.end_reason = EnrollmentStatus.FAILED, "stale"
        assert not await uow.enrollments.save(stale, 0)
        assert stale.version == 0
        await uow.commit()
    assert await _get(storage, added.id) == claimed

    claimed.status, claimed.ended_at, claimed.end_reason = EnrollmentStatus.COMPLETED, now, "end"
    claimed.due_at = None
    async with storage.uow() as uow:
        assert not await uow.enrollments.save(claimed, 1)
        assert await uow.enrollments.save(claimed, 2)
        await uow.commit()
    assert await _get(storage, added.id) == claimed


async def test_save_many_writes_the_current_ones_in_one_go(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    now = clock.now()
    ids = [(await new_enrollment(storage, contact.id, now)).id for _ in range(3)]
    async with storage.uow() as uow:
        claimed = await uow.enrollments.claim_due(now, 3, now + LEASE)
        await uow.commit()
    for index, item in enumerate(claimed):
        item.step_id = f"step{index}"
        item.due_at = now + timedelta(hours=index)
        item.variables = {"i": index}
    items = [(claimed[0], 1), (claimed[1], 0), (claimed[2], 1)]  # the middle one is stale
    async with storage.uow() as uow:
        assert await uow.enrollments.save_many([]) == []
        assert await uow.enrollments.save_many(items) == [True, False, True]
        await uow.commit()
    assert [item.version for item in claimed] == [2, 1, 2]
    assert await _get(storage, ids[0]) == claimed[0]
    assert await _get(storage, ids[2]) == claimed[2]
    untouched = await _get(storage, ids[1])
    assert (untouched.step_id, untouched.due_at, untouched.version) == ("hello", now + LEASE, 1)


async def test_exit_open_for_contact_in_all_funnels_or_one(
    storage: Storage, clock: FakeClock
) -> None:
    ada, bob = await new_contact(storage, "Ada"), await new_contact(storage, "Bob")
    now = clock.now()
    welcome = await new_enrollment(storage, ada.id, now)
    cart = await new_enrollment(
        storage, ada.id, now, funnel_id="cart", status=EnrollmentStatus.WAITING_REPLY
    )
    done = await new_enrollment(storage, ada.id, now, status=EnrollmentStatus.COMPLETED)
    bobs = await new_enrollment(storage, bob.id, now)
    clock.advance(60)
    async with storage.uow() as uow:
        exited = await uow.enrollments.exit_open_for_contact(
            ada.id, "goal order_paid", clock.now(), funnel_id="cart"
        )
        assert await uow.enrollments.exit_open_for_contact(ada.id, "x", now, "none") == []
        rest = await uow.enrollments.exit_open_for_contact(ada.id, "opted out", clock.now())
        await uow.commit()
    assert [item.id for item in exited] == [cart.id]
    assert [item.id for item in rest] == [welcome.id]
    (gone,) = exited
    assert gone.status is EnrollmentStatus.EXITED
    assert (gone.end_reason, gone.ended_at, gone.updated_at) == ("goal order_paid",) + (
        clock.now(),
    ) * 2
    assert (gone.due_at, gone.version) == (None, 1)
    assert await _get(storage, done.id) == done
    assert await _get(storage, bobs.id) == bobs


async def test_counts(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    now = clock.now()
    async with storage.uow() as uow:
        assert await uow.enrollments.count_open() == 0
        assert set((await uow.enrollments.count_by_status()).values()) == {0}
    for status, funnel in [
        (EnrollmentStatus.RUNNING, "welcome"),
        (EnrollmentStatus.RUNNING, "cart"),
        (EnrollmentStatus.WAITING_REPLY, "cart"),
        (EnrollmentStatus.EXPIRED, "cart"),
        (EnrollmentStatus.FAILED, "welcome"),
    ]:
        await new_enrollment(storage, contact.id, now, status=status, funnel_id=funnel)
    async with storage.uow() as uow:
        assert await uow.enrollments.count_open() == 3
        everything = await uow.enrollments.count_by_status()
        cart = await uow.enrollments.count_by_status("cart")
    assert everything == {
        EnrollmentStatus.RUNNING: 2,
        EnrollmentStatus.WAITING_REPLY: 1,
        EnrollmentStatus.COMPLETED: 0,
        EnrollmentStatus.EXITED: 0,
        EnrollmentStatus.EXPIRED: 1,
        EnrollmentStatus.FAILED: 1,
    }
    assert cart == {**dict.fromkeys(EnrollmentStatus, 0), "running": 1, "waiting_reply": 1,
                    "expired": 1}  # fmt: skip


async def test_two_open_claims_on_postgresql_get_different_rows(
    storage: Storage, clock: FakeClock
) -> None:
    if storage.dialect != "postgresql":
        pytest.skip("two claims open at once need row locks (PostgreSQL)")
    contact = await new_contact(storage)
    now = clock.now()
    ids = [
        (await new_enrollment(storage, contact.id, now - timedelta(minutes=index))).id
        for index in range(6)
    ]
    async with storage.uow() as first, storage.uow() as second:
        mine = await first.enrollments.claim_due(now, 4, now + LEASE)
        # `first` has not committed: its rows are locked, and skipped rather than waited for.
        theirs = await asyncio.wait_for(second.enrollments.claim_due(now, 4, now + LEASE), 5)
        await first.commit()
        await second.commit()
    oldest_first = ids[::-1]
    assert [row.id for row in mine] == oldest_first[:4]
    assert [row.id for row in theirs] == oldest_first[4:]


async def test_many_workers_share_the_due_rows_without_overlap(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    now = clock.now()
    async with storage.uow() as uow:
        ids = await uow.enrollments.add_many(enrollment_for(contact.id, now) for _ in range(40))
        await uow.commit()

    async def worker() -> list[int]:
        taken: list[int] = []
        while True:
            async with storage.uow() as uow:
                batch = await uow.enrollments.claim_due(now, 3, now + LEASE)
                for item in batch:
                    item.status, item.due_at = EnrollmentStatus.COMPLETED, None
                saved = await uow.enrollments.save_many([(item, item.version) for item in batch])
                assert all(saved)
                await uow.commit()
            if not batch:
                return taken
            taken += [item.id for item in batch]
            await asyncio.sleep(0)  # let the other workers interleave

    results = await asyncio.gather(*(worker() for _ in range(4)))
    assert sorted(row_id for result in results for row_id in result) == ids
    async with storage.uow() as uow:
        assert (await uow.enrollments.count_by_status())[EnrollmentStatus.COMPLETED] == 40


async def _get(storage: Storage, enrollment_id: int) -> Enrollment:
    async with storage.uow() as uow:
        stored = await uow.enrollments.get(enrollment_id)
    assert stored is not None
    return stored
