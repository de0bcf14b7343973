"""The knowledge base log on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, KbDecisionKind
from bot.storage.uow import Storage


async def _conversation(storage: Storage, clock: FakeClock) -> tuple[int, int]:
    async with storage.uow() as uow:
        contact = await uow.contacts.create("Ann", "en")
        conversation = await uow.conversations.create(contact.id, Channel.TELEGRAM, clock.now())
        await uow.commit()
    return contact.id, conversation.id


async def test_add_feedback_and_recent(storage: Storage, clock: FakeClock) -> None:
    contact_id, conversation_id = await _conversation(storage, clock)
    async with storage.uow() as uow:
        first = await uow.kb.add(
            contact_id,
            conversation_id,
            "where is my parcel",
            "en",
            KbDecisionKind.ANSWERED,
            "tracking",
            0.91,
            [("tracking", 0.91), ("delivery", 0.4)],
            clock.now(),
        )
        clock.advance(timedelta(minutes=1))
        second = await uow.kb.add(
            contact_id,
            conversation_id,
            "asdfgh",
            "en",
            KbDecisionKind.NO_ANSWER,
            None,
            None,
            [],
            clock.now(),
        )
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.kb.set_feedback(first.id, False, clock.now())
        assert not await uow.kb.set_feedback(999_999, True, clock.now())
        await uow.commit()
    async with storage.uow() as uow:
        recent = await uow.kb.recent_for_conversation(conversation_id)
        stored = await uow.kb.get(first.id)
    assert [i.id for i in recent] == [second.id, first.id]
    assert stored is not None
    assert stored.candidates == [("tracking", 0.91), ("delivery", 0.4)]
    assert (stored.helpful, stored.feedback_at) == (False, clock.now())
    assert stored.decision is KbDecisionKind.ANSWERED
    assert recent[0].article_id is None and recent[0].helpful is None


async def test_merging_contacts_moves_their_questions(storage: Storage, clock: FakeClock) -> None:
    source_id, conversation_id = await _conversation(storage, clock)
    target_id, _ = await _conversation(storage, clock)
    async with storage.uow() as uow:
        asked = await uow.kb.add(
            source_id,
            conversation_id,
            "hi",
            "en",
            KbDecisionKind.NO_ANSWER,
            None,
            None,
            [],
            clock.now(),
        )
        await uow.contacts.merge_into(source_id, target_id)
        await uow.commit()
    async with storage.uow() as uow:
        moved = await uow.kb.get(asked.id)
    assert moved is not None and moved.contact_id == target_id
