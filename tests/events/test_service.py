"""The Events API's service on real storage: contacts found or created by each identifier,
events stored once, one-time Telegram links bound by `bind_shop_contact`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.conversation.shop_link import bind_shop_contact
from bot.domain.clock import FakeClock
from bot.domain.model import Channel, Contact, Direction, Sender
from bot.events.parsing import EventError
from bot.events.service import EventsService
from bot.storage.uow import Storage


def body(contact: dict[str, Any], key: str = "e1", **fields: Any) -> bytes:
    return json.dumps({"id": key, "type": "cart_abandoned", "contact": contact, **fields}).encode()


def service(storage: Storage, clock: FakeClock, woken: list[int] | None = None) -> EventsService:
    def wake() -> None:
        if woken is not None:
            woken.append(1)

    return EventsService(storage.uow, clock, telegram_username=lambda: "shop_bot", on_event=wake)


async def telegram_contact(storage: Storage, user_id: int, name: str = "Ada T.") -> Contact:
    async with storage.uow() as uow:
        contact = await uow.contacts.create(name, "en")
        await uow.identities.add(contact.id, Channel.TELEGRAM, str(user_id), str(user_id), None)
        conversation = await uow.conversations.create(
            contact.id, Channel.TELEGRAM, storage.clock.now()
        )
        await uow.messages.add(
            conversation.id, contact.id, Direction.INBOUND, Sender.CUSTOMER,
            Channel.TELEGRAM, "hi", storage.clock.now(),
        )  # fmt: skip
        await uow.commit()
    return contact


async def test_an_event_for_an_unknown_shop_customer_creates_the_contact(
    storage: Storage, clock: FakeClock
) -> None:
    woken: list[int] = []
    contact = {"external_id": "42", "phone": "+1 555 010 0000", "email": "Ada@Example.com"}
    accepted = await service(storage, clock, woken).ingest(body(contact, data={"cart": {"n": 2}}))
    assert (accepted.duplicate, accepted.contact_created) == (False, True)
    assert woken == [1]
    event = accepted.event
    assert (event.key, event.type, event.data) == ("e1", "cart_abandoned", {"cart": {"n": 2}})
    assert event.occurred_at == event.received_at == clock.now()
    async with storage.uow() as uow:
        made = await uow.contacts.get(event.contact_id)
        assert await uow.api_events.get_by_key("e1") == event
    assert made is not None
    assert (made.external_id, made.phone, made.email) == ("42", "+15550100000", "ada@example.com")
    assert made.display_name == "Shop customer"


@pytest.mark.parametrize(
    "ref",
    [{"external_id": 42}, {"phone": "+15550100000"}, {"email": "ADA@example.com"}, "id", "tg"],
)
async def test_a_known_contact_is_found_by_each_identifier(
    storage: Storage, clock: FakeClock, ref: Any
) -> None:
    known = await telegram_contact(storage, 777)
    known.external_id, known.phone, known.email = "42", "+15550100000", "ada@example.com"
    async with storage.uow() as uow:
        await uow.contacts.update(known)
        await uow.commit()
    contact = {"id": known.id} if ref == "id" else {"telegram_user_id": 777} if ref == "tg" else ref
    accepted = await service(storage, clock).ingest(body(contact))
    assert (accepted.event.contact_id, accepted.contact_created) == (known.id, False)


async def test_a_repeated_id_has_no_second_effect(storage: Storage, clock: FakeClock) -> None:
    events = service(storage, clock)
    first = await events.ingest(body({"external_id": "42"}))
    clock.advance(60)
    again = await events.ingest(body({"email": "someone@else.com"}, data={"changed": True}))
    assert again.duplicate and again.event == first.event
    async with storage.uow() as uow:
        contacts = uow.contacts
        assert await contacts.find_by_email("someone@else.com") is None  # nothing was created
        assert len(await uow.api_events.claim_pending(10)) == 1


@pytest.mark.parametrize(
    ("contact", "field", "words"),
    [
        ({"id": 999_999}, "contact.id", "no contact with id 999999"),
        ({"telegram_user_id": 5}, "contact.telegram_user_id", "not written to the bot"),
    ],
)
async def test_unknown_nudge_or_telegram_contacts_are_refused(
    storage: Storage, clock: FakeClock, contact: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(EventError) as caught:
        await service(storage, clock).ingest(body(contact))
    assert (caught.value.status, caught.value.field) == (422, field)
    assert words in caught.value.message
    async with storage.uow() as uow:
        assert await uow.api_events.claim_pending(10) == []


async def test_identifiers_are_added_but_never_taken_from_another_contact(
    storage: Storage, clock: FakeClock
) -> None:
    events = service(storage, clock)
    other = (await events.ingest(body({"email": "bob@example.com"}, key="b"))).event.contact_id
    first = await events.ingest(body({"external_id": "42"}, key="a1"))
    await events.ingest(body({"external_id": "42", "phone": "+37369000000"}, key="a2"))
    await events.ingest(body({"external_id": "42", "email": "bob@example.com"}, key="a3"))
    async with storage.uow() as uow:
        ada = await uow.contacts.get(first.event.contact_id)
        bob = await uow.contacts.get(other)
    assert ada is not None and bob is not None
    assert (ada.phone, ada.email, bob.email) == ("+37369000000", None, "bob@example.com")
    with pytest.raises(EventError) as caught:
        await events.ingest(body({"id": ada.id, "external_id": "43"}, key="a4"))
    assert (caught.value.status, caught.value.field) == (422, "contact.external_id")


async def test_a_shop_link_binds_the_telegram_user_once(storage: Storage, clock: FakeClock) -> None:
    events = service(storage, clock)
    link = await events.link(json.dumps({"contact": {"external_id": "42"}}).encode())
    assert link.url.startswith("https://t.me/shop_bot?start=c_")
    assert link.expires_at == clock.now() + timedelta(days=7)
    code = link.url.split("start=c_")[1]
    assert len("c_" + code) <= 64
    telegram = await telegram_contact(storage, 777)
    async with storage.uow() as uow:
        bound = await bind_shop_contact(uow, telegram, code, clock.now())
        await uow.commit()
    assert bound is not None
    assert (bound.id, bound.external_id) == (link.contact_id, "42")
    assert bound.display_name == "Ada T."  # better than the made-up "Shop customer"
    async with storage.uow() as uow:
        assert await uow.contacts.get(telegram.id) is None
        identity = await uow.identities.find(Channel.TELEGRAM, "777")
        assert identity is not None and identity.contact_id == link.contact_id
        assert [m.text for m in await uow.messages.history(link.contact_id)] == ["hi"]
        assert await bind_shop_contact(uow, bound, code, clock.now()) is None  # one-time
    # Events naming the Telegram user now reach the shop's contact.
    later = await events.ingest(body({"telegram_user_id": 777}, key="e2"))
    assert later.event.contact_id == link.contact_id


async def test_an_expired_or_unknown_code_binds_nobody(storage: Storage, clock: FakeClock) -> None:
    link = await service(storage, clock).link(json.dumps({"contact": {"email": "a@b.co"}}).encode())
    code = link.url.split("start=c_")[1]
    telegram = await telegram_contact(storage, 778)
    async with storage.uow() as uow:
        assert await bind_shop_contact(uow, telegram, "nope", clock.now()) is None
        assert await bind_shop_contact(uow, telegram, code, link.expires_at) is None
        await uow.commit()
        assert await uow.contacts.get(telegram.id) == telegram


async def test_the_same_contact_is_already_bound(storage: Storage, clock: FakeClock) -> None:
    telegram = await telegram_contact(storage, 779)
    link = await service(storage, clock).link(
        json.dumps({"contact": {"telegram_user_id": 779}}).encode()
    )
    code = link.url.split("start=c_")[1]
    async with storage.uow() as uow:
        assert await bind_shop_contact(uow, telegram, code, clock.now()) == telegram


async def test_no_link_without_telegram(storage: Storage, clock: FakeClock) -> None:
    events = EventsService(storage.uow, clock)
    with pytest.raises(EventError) as caught:
        await events.link(json.dumps({"contact": {"external_id": "1"}}).encode())
    assert caught.value.status == 503
    with pytest.raises(EventError) as caught:
        await events.link(json.dumps({"contact": {}, "x": 1}).encode())
    assert (caught.value.status, caught.value.field) == (400, "x")
