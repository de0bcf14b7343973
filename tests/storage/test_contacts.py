from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, Contact, Direction, OutboxStatus, Sender
from bot.storage.uow import Storage

from .factories import add_drafts, draft, new_contact, new_conversation


async def test_create_and_get(storage: Storage, clock: FakeClock) -> None:
    created = await new_contact(storage, "Ada", "en")
    async with storage.uow() as uow:
        loaded = await uow.contacts.get(created.id)
        assert await uow.contacts.get(created.id + 1000) is None
    assert loaded == created
    assert loaded is not None
    assert loaded.display_name == "Ada"
    assert loaded.language == "en"
    assert (loaded.opted_out, loaded.blocked, loaded.attributes) == (False, False, {})
    assert loaded.created_at == clock.now()


async def test_update_writes_every_field(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    contact.display_name = "Ada L."
    contact.language = "de"
    contact.timezone = "Europe/Berlin"
    contact.opted_out = True
    contact.blocked = True
    contact.start_payload = "promo"
    contact.attributes = {"plan": "pro", "seats": 3, "tags": ["a", "ü"]}
    clock.advance(60)
    async with storage.uow() as uow:
        await uow.contacts.update(contact)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.contacts.get(contact.id) == contact


async def test_get_many(storage: Storage) -> None:
    first, second = await new_contact(storage, "A"), await new_contact(storage, "B")
    async with storage.uow() as uow:
        found = await uow.contacts.get_many(iter([first.id, second.id, first.id, 999_999]))
        assert await uow.contacts.get_many([]) == {}
    assert found == {first.id: first, second.id: second}


async def test_identities(storage: Storage) -> None:
    contact = await new_contact(storage)
    async with storage.uow() as uow:
        added = await uow.identities.add(contact.id, Channel.TELEGRAM, "42", "42", "ada")
        web = await uow.identities.add(contact.id, Channel.WEBCHAT, "v-1", "v-1", None)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.identities.find(Channel.TELEGRAM, "42") == added
        assert await uow.identities.find(Channel.WEBCHAT, "42") is None
        assert await uow.identities.for_contact(contact.id) == [added, web]
        added.blocked = True
        added.username = None
        added.address = "43"
        await uow.identities.update(added)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.identities.find(Channel.TELEGRAM, "42") == added


async def test_a_second_identity_with_the_same_channel_and_external_id_is_refused(
    storage: Storage,
) -> None:
    contact = await new_contact(storage)
    async with storage.uow() as uow:
        await uow.identities.add(contact.id, Channel.TELEGRAM, "42", "42", None)
        with pytest.raises(Exception, match=r"(?i)unique"):
            await uow.identities.add(contact.id, Channel.TELEGRAM, "42", "42", None)


async def _give_source_some_of_everything(
    storage: Storage, source: Contact, target: Contact, at: datetime
) -> tuple[int, int]:
    conversation = await new_conversation(storage, source.id, at)
    [outbox_id] = await add_drafts(storage, at, draft("k1", source.id))
    async with storage.uow() as uow:
        await uow.identities.add(source.id, Channel.WEBCHAT, "v-1", "v-1", None)
        await uow.messages.add(
            conversation.id,
            source.id,
            Direction.INBOUND,
            Sender.CUSTOMER,
            Channel.WEBCHAT,
            "hi",
            at,
        )
        source.opted_out = True
        source.timezone = "Europe/Paris"
        source.attributes = {"from": "web", "plan": "free"}
        await uow.contacts.update(source)
        target.attributes = {"plan": "pro"}
        await uow.contacts.update(target)
        await uow.commit()
    return conversation.id, outbox_id


async def test_merge_into_moves_everything_and_deletes_the_source(
    storage: Storage, clock: FakeClock
) -> None:
    source, target = await new_contact(storage, "Web visitor", None), await new_contact(storage)
    conversation_id, outbox_id = await _give_source_some_of_everything(
        storage, source, target, clock.now()
    )

    async with storage.uow() as uow:
        await uow.contacts.merge_into(source.id, target.id)
        await uow.commit()

    async with storage.uow() as uow:
        assert await uow.contacts.get(source.id) is None
        merged = await uow.contacts.get(target.id)
        assert [i.external_id for i in await uow.identities.for_contact(target.id)] == ["v-1"]
        moved_conversation = await uow.conversations.get(conversation_id)
        assert [m.text for m in await uow.messages.history(target.id)] == ["hi"]
        moved_row = await uow.outbox.get(outbox_id)
    assert moved_conversation is not None and moved_conversation.contact_id == target.id
    assert moved_row is not None and moved_row.contact_id == target.id
    assert moved_row.status is OutboxStatus.PENDING
    assert merged is not None
    # The target's profile wins, gaps are filled from the source, an opt-out is never lost.
    assert (merged.display_name, merged.language, merged.timezone) == ("Ada", "en", "Europe/Paris")
    assert merged.opted_out is True
    assert merged.attributes == {"from": "web", "plan": "pro"}


async def test_merge_into_refuses_itself_and_unknown_contacts(storage: Storage) -> None:
    contact = await new_contact(storage)
    async with storage.uow() as uow:
        with pytest.raises(ValueError, match="itself"):
            await uow.contacts.merge_into(contact.id, contact.id)
        with pytest.raises(ValueError, match="does not exist"):
            await uow.contacts.merge_into(contact.id, contact.id + 1000)


async def test_created_at_comes_from_the_storage_clock(storage: Storage, clock: FakeClock) -> None:
    clock.advance(timedelta(days=3))
    contact = await new_contact(storage)
    assert contact.created_at == clock.now()


def test_merge_into_moves_every_table_that_belongs_to_a_contact() -> None:
    """A table added with a contact foreign key must be moved by a merge (or the merge would
    fail on the key, or leave the rows with a deleted contact)."""
    from bot.storage.repositories.contacts import _OWNED_TABLES
    from bot.storage.tables import contacts, metadata

    owning = {
        table.name
        for table in metadata.sorted_tables
        if table is not contacts
        for key in table.foreign_keys
        if key.column is contacts.c.id and key.parent.name == "contact_id"
    }
    assert owning == {table.name for table in _OWNED_TABLES}
