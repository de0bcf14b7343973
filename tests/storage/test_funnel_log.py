"""The funnel log: an enrollment's story and the frequency cap's counts."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import FakeClock
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.storage.uow import Storage

from .factories import new_contact, new_enrollment


async def test_entries_are_stored_and_told_in_order(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    enrollment = await new_enrollment(storage, contact.id, clock.now(), variant="b")
    other = await new_enrollment(storage, contact.id, clock.now(), funnel_id="cart")
    entered = FunnelLogEntry.of(enrollment, FunnelLogKind.ENTERED, clock.now())
    assert (entered.step_id, entered.variant, entered.detail) == ("hello", "b", None)
    async with storage.uow() as uow:
        first = await uow.funnel_log.add(entered)
        assert first.id > 0 and first == FunnelLogEntry(**{**_fields(entered), "id": first.id})
        later = clock.now() + timedelta(minutes=1)
        added = await uow.funnel_log.add_many(
            [
                FunnelLogEntry.of(enrollment, FunnelLogKind.SENT, later, "sent hello.j2"),
                FunnelLogEntry.of(other, FunnelLogKind.ENTERED, later),
                FunnelLogEntry.of(
                    enrollment, FunnelLogKind.SKIPPED, later, "step gone <b>&", step_id="gone"
                ),
            ]
        )
        assert added == 3
        assert await uow.funnel_log.add_many([]) == 0
        await uow.commit()
    async with storage.uow() as uow:
        story = await uow.funnel_log.for_enrollment(enrollment.id)
        assert await uow.funnel_log.for_enrollment(enrollment.id + 1000) == []
    assert story[0] == first
    assert [(e.kind, e.step_id, e.detail) for e in story] == [
        (FunnelLogKind.ENTERED, "hello", None),
        (FunnelLogKind.SENT, "hello", "sent hello.j2"),
        (FunnelLogKind.SKIPPED, "gone", "step gone <b>&"),
    ]
    assert {(e.funnel_id, e.contact_id, e.variant, e.at) for e in story[1:]} == {
        ("welcome", contact.id, "b", later)
    }


async def test_sent_counts_since_a_moment_across_funnels(
    storage: Storage, clock: FakeClock
) -> None:
    ada, bob = await new_contact(storage, "Ada"), await new_contact(storage, "Bob")
    start = clock.now()
    welcome = await new_enrollment(storage, ada.id, start)
    cart = await new_enrollment(storage, ada.id, start, funnel_id="cart")
    bobs = await new_enrollment(storage, bob.id, start)
    hours = [start + timedelta(hours=hour) for hour in range(4)]
    async with storage.uow() as uow:
        await uow.funnel_log.add_many(
            [
                FunnelLogEntry.of(welcome, FunnelLogKind.SENT, hours[0]),
                FunnelLogEntry.of(cart, FunnelLogKind.SENT, hours[2]),
                FunnelLogEntry.of(welcome, FunnelLogKind.SENT, hours[1]),
                FunnelLogEntry.of(welcome, FunnelLogKind.DELAYED, hours[3]),  # not a send
                FunnelLogEntry.of(bobs, FunnelLogKind.SENT, hours[3]),  # someone else
            ]
        )
        await uow.commit()
    async with storage.uow() as uow:
        log = uow.funnel_log
        assert await log.count_sent_since(ada.id, start) == 3
        assert await log.sent_times_since(ada.id, start) == hours[:3]
        # `since` itself counts.
        assert await log.count_sent_since(ada.id, hours[1]) == 2
        assert await log.sent_times_since(ada.id, hours[1]) == hours[1:3]
        assert await log.count_sent_since(ada.id, hours[3]) == 0
        assert await log.sent_times_since(ada.id, hours[3]) == []
        assert await log.count_sent_since(bob.id, start) == 1


def _fields(entry: FunnelLogEntry) -> dict[str, object]:
    return {name: getattr(entry, name) for name in FunnelLogEntry.__slots__}
