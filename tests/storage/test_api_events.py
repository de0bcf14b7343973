"""The Events API's storage: shop identifiers on contacts, stored events, webhook deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.clock import FakeClock
from bot.domain.events import ApiEventStatus, WebhookStatus
from bot.storage.uow import Storage

from .factories import new_contact


async def test_identifiers_are_stored_found_and_unique(storage: Storage) -> None:
    async with storage.uow() as uow:
        contacts = uow.contacts
        made = await contacts.create_identified("Ada", "42", "+15550100000", "ada@example.com")
        assert made is not None
        assert (made.external_id, made.phone, made.email) == (
            "42",
            "+15550100000",
            "ada@example.com",
        )
        assert await contacts.find_by_external_id("42") == made
        assert await contacts.find_by_phone("+15550100000") == made
        assert await contacts.find_by_email("ada@example.com") == made
        assert await contacts.find_by_external_id("43") is None
        # Any identifier held by another contact: nothing is stored, the transaction goes on.
        assert await contacts.create_identified("Bob", "43", None, "ada@example.com") is None
        assert await contacts.create_identified("Bob", None, "+15550100000", None) is None
        other = await contacts.create_identified("Bob", "43", None, None)
        assert other is not None and other.phone is None
        # Contacts without identifiers never collide (NULLs are distinct).
        assert await contacts.create_identified("Cy", None, None, None) is not None
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.contacts.find_by_external_id("43") == other


async def test_update_writes_the_identifiers(storage: Storage) -> None:
    contact = await new_contact(storage)
    contact.external_id, contact.phone, contact.email = "7", "+37369000000", "x@y.md"
    async with storage.uow() as uow:
        await uow.contacts.update(contact)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.contacts.get(contact.id) == contact


async def test_merge_keeps_the_identifiers_of_both(storage: Storage, clock: FakeClock) -> None:
    async with storage.uow() as uow:
        contacts = uow.contacts
        shop = await contacts.create_identified("Shop customer", "42", None, "ada@example.com")
        chat = await contacts.create_identified("Ada", "99", "+15550100000", "old@example.com")
        assert shop is not None and chat is not None
        event = await uow.api_events.add(
            "e1", "cart_abandoned", chat.id, {}, clock.now(), clock.now()
        )
        assert event is not None
        await uow.contacts.merge_into(chat.id, shop.id)
        await uow.commit()
    async with storage.uow() as uow:
        merged = await uow.contacts.get(shop.id)
        assert await uow.contacts.get(chat.id) is None
        stored = await uow.api_events.get_by_key("e1")
    assert merged is not None and stored is not None
    # The target's identifiers win; the source's fill the gaps.
    assert (merged.external_id, merged.phone, merged.email) == (
        "42",
        "+15550100000",
        "ada@example.com",
    )
    assert stored.contact_id == shop.id


async def test_events_are_stored_once_claimed_and_marked(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    occurred = clock.now() - timedelta(minutes=5)
    async with storage.uow() as uow:
        first = await uow.api_events.add(
            "order-1",
            "order_paid",
            contact.id,
            {"total": 12.5, "items": ["ü"]},
            occurred,
            clock.now(),
        )
        again = await uow.api_events.add(
            "order-1", "order_paid", contact.id, {}, occurred, clock.now()
        )
        second = await uow.api_events.add(
            "order-2", "order_paid", contact.id, {}, occurred, clock.now()
        )
        await uow.commit()
    assert first is not None and second is not None and again is None
    assert (first.status, first.data, first.occurred_at) == (
        ApiEventStatus.PENDING,
        {"total": 12.5, "items": ["ü"]},
        occurred,
    )
    async with storage.uow() as uow:
        claimed = await uow.api_events.claim_pending(10)
        assert [event.key for event in claimed] == ["order-1", "order-2"]
        await uow.api_events.mark(first.id, True, None, clock.now())
        await uow.api_events.mark(second.id, False, "no funnel", clock.now())
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.api_events.claim_pending(10) == []
        done = await uow.api_events.get_by_key("order-1")
        failed = await uow.api_events.get_by_key("order-2")
    assert done is not None and done.status is ApiEventStatus.PROCESSED
    assert done.processed_at == clock.now()
    assert failed is not None and (failed.status, failed.error) == (
        ApiEventStatus.FAILED,
        "no funnel",
    )


async def test_webhook_deliveries_claim_lease_and_outcomes(
    storage: Storage, clock: FakeClock
) -> None:
    now = clock.now()
    async with storage.uow() as uow:
        a = await uow.webhooks.add("k1", "https://a.example/h", "funnel.exited", {"id": "k1"}, now)
        b = await uow.webhooks.add("k1", "https://b.example/h", "funnel.exited", {"id": "k1"}, now)
        assert await uow.webhooks.add("k1", "https://a.example/h", "funnel.exited", {}, now) is None
        await uow.commit()
    assert a is not None and b is not None
    assert (a.status, a.attempts, a.next_attempt_at) == (WebhookStatus.PENDING, 0, now)
    lease = now + timedelta(seconds=70)
    async with storage.uow() as uow:
        claimed = await uow.webhooks.claim_due(now, lease, 10)
        await uow.commit()
    assert [(d.id, d.status, d.next_attempt_at) for d in claimed] == [
        (a.id, WebhookStatus.SENDING, lease),
        (b.id, WebhookStatus.SENDING, lease),
    ]
    async with storage.uow() as uow:
        # Leased: nobody else gets them, until the lease runs out (a dispatcher died).
        assert await uow.webhooks.claim_due(now + timedelta(seconds=69), lease, 10) == []
        await uow.webhooks.delivered(a.id, now)
        await uow.webhooks.retry_at(b.id, now + timedelta(seconds=10), "HTTP 503", now)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.webhooks.claim_due(now + timedelta(seconds=9), lease, 10) == []
        [again] = await uow.webhooks.claim_due(now + timedelta(seconds=10), lease, 10)
        await uow.webhooks.failed(b.id, "HTTP 404", now)
        await uow.commit()
        done, gone = await uow.webhooks.get(a.id), await uow.webhooks.get(b.id)
    assert (again.id, again.attempts, again.last_error) == (b.id, 1, "HTTP 503")
    assert done is not None and (done.status, done.attempts, done.delivered_at) == (
        WebhookStatus.DELIVERED,
        1,
        now,
    )
    assert gone is not None and (gone.status, gone.attempts, gone.last_error) == (
        WebhookStatus.FAILED,
        2,
        "HTTP 404",
    )


async def test_a_dead_dispatchers_lease_runs_out(storage: Storage, clock: FakeClock) -> None:
    now = clock.now()
    async with storage.uow() as uow:
        await uow.webhooks.add("k", "https://a.example/h", "x", {}, now)
        [first] = await uow.webhooks.claim_due(now, now + timedelta(seconds=70), 10)
        await uow.commit()
    async with storage.uow() as uow:
        [second] = await uow.webhooks.claim_due(
            now + timedelta(seconds=70), now + timedelta(seconds=140), 10
        )
    assert second.id == first.id


@pytest.mark.parametrize("limit", [0, -1])
async def test_claims_of_nothing(storage: Storage, clock: FakeClock, limit: int) -> None:
    async with storage.uow() as uow:
        assert await uow.api_events.claim_pending(limit) == []
        assert await uow.webhooks.claim_due(clock.now(), clock.now(), limit) == []
