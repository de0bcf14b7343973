from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import FakeClock
from bot.domain.model import Button, Channel, OutboundDraft, OutboundKind, OutboxStatus
from bot.storage.repositories.outbox import STALE_SENDING_REASON
from bot.storage.uow import Storage

from .factories import add_drafts, draft, new_contact, new_conversation


async def test_add_stores_every_field(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    conversation = await new_conversation(storage, contact.id, clock.now())
    buttons = [
        [Button("Open", url="https://example.com/ü")],
        [Button("Yes", callback_data="y"), Button("No", callback_data="n")],
    ]
    item = OutboundDraft(
        key="reply:1",
        contact_id=contact.id,
        channel=Channel.WEBCHAT,
        address="visitor-1",
        text="Hello 👋",
        kind=OutboundKind.SURVEY,
        conversation_id=conversation.id,
        buttons=buttons,
        thread_id=2**40,
    )
    async with storage.uow() as uow:
        added = await uow.outbox.add(item, clock.now())
        await uow.commit()
    async with storage.uow() as uow:
        assert added is not None
        assert await uow.outbox.get(added.id) == added
        assert await uow.outbox.get_by_key("reply:1") == added
        assert await uow.outbox.get(added.id + 1000) is None
        assert await uow.outbox.get_by_key("nope") is None
    sent_fields = (added.key, added.channel, added.address, added.text, added.kind, added.buttons)
    assert sent_fields == (item.key, item.channel, item.address, item.text, item.kind, buttons)
    assert (added.thread_id, added.conversation_id) == (2**40, conversation.id)
    # Without its own not_before a row is due at once.
    assert added.status is OutboxStatus.PENDING
    assert added.not_before == added.created_at == clock.now()
    assert (added.attempts, added.reason, added.channel_message_id, added.sent_at) == (0,) + (
        None,
    ) * 3


async def test_a_duplicate_key_returns_none_and_the_transaction_goes_on(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    async with storage.uow() as uow:
        first = await uow.outbox.add(draft("same", contact.id), clock.now())
        again = await uow.outbox.add(draft("same", contact.id), clock.now())
        other = await uow.outbox.add(draft("other", contact.id), clock.now())
        await uow.commit()
    assert first is not None and other is not None
    assert again is None
    async with storage.uow() as uow:
        # A key stored by an earlier transaction is a duplicate too.
        assert await uow.outbox.add(draft("same", contact.id), clock.now()) is None
        counts = await uow.outbox.count_by_status()
    assert counts[OutboxStatus.PENDING] == 2


async def test_claim_due_respects_not_before_order_and_limit(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    now = clock.now()
    ids = await add_drafts(
        storage,
        now,
        draft("a", contact.id),
        draft("later", contact.id, not_before=now + timedelta(minutes=5)),
        draft("b", contact.id, not_before=now - timedelta(minutes=5)),
        draft("c", contact.id, not_before=now),
        draft("d", contact.id),
    )
    async with storage.uow() as uow:
        first = await uow.outbox.claim_due(now, 2)
        second = await uow.outbox.claim_due(now, 10)
        third = await uow.outbox.claim_due(now, 10)
        assert await uow.outbox.claim_due(now, 0) == []
        await uow.commit()
    assert [row.key for row in first] == ["a", "b"]  # by id, not by not_before
    assert [row.key for row in second] == ["c", "d"]
    assert third == []
    assert all(row.status is OutboxStatus.SENDING for row in first + second)
    async with storage.uow() as uow:
        later = await uow.outbox.claim_due(now + timedelta(minutes=5), 10)
        stored = await uow.outbox.get(ids[0])
    assert [row.key for row in later] == ["later"]
    assert stored is not None and stored.status is OutboxStatus.SENDING


async def test_finish_records_the_outcome(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    sent_id, failed_id = await add_drafts(
        storage, clock.now(), draft("s", contact.id), draft("f", contact.id)
    )
    clock.advance(3)
    async with storage.uow() as uow:
        await uow.outbox.finish(sent_id, OutboxStatus.SENT, clock.now(), channel_message_id="9")
        await uow.outbox.finish(failed_id, OutboxStatus.FAILED, clock.now(), reason="400: bad")
        await uow.commit()
    async with storage.uow() as uow:
        sent, failed = await uow.outbox.get(sent_id), await uow.outbox.get(failed_id)
    assert sent is not None and failed is not None
    assert (sent.status, sent.channel_message_id, sent.sent_at) == (
        OutboxStatus.SENT,
        "9",
        clock.now(),
    )
    assert (failed.status, failed.reason, failed.sent_at) == (OutboxStatus.FAILED, "400: bad", None)


async def test_reschedule_puts_a_row_back_and_counts_attempts(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    [row_id] = await add_drafts(storage, clock.now(), draft("r", contact.id))
    later = clock.now() + timedelta(seconds=30)
    async with storage.uow() as uow:
        await uow.outbox.claim_due(clock.now(), 1)
        await uow.outbox.reschedule(row_id, later, "429: retry after 30", attempt=True)
        counted = await uow.outbox.get(row_id)
        await uow.outbox.claim_due(later, 1)
        await uow.outbox.reschedule(row_id, later, "quiet hours", attempt=False)
        not_counted = await uow.outbox.get(row_id)
        await uow.commit()
    assert counted is not None and not_counted is not None
    assert (counted.status, counted.not_before, counted.attempts, counted.reason) == (
        OutboxStatus.PENDING,
        later,
        1,
        "429: retry after 30",
    )
    assert (not_counted.attempts, not_counted.reason) == (1, "quiet hours")


async def test_reschedule_never_revives_a_finished_row(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    [row_id] = await add_drafts(storage, clock.now(), draft("done", contact.id))
    async with storage.uow() as uow:
        await uow.outbox.finish(row_id, OutboxStatus.SENT, clock.now(), channel_message_id="1")
        await uow.outbox.reschedule(row_id, clock.now(), "late retry", attempt=True)
        row = await uow.outbox.get(row_id)
    assert row is not None and row.status is OutboxStatus.SENT and row.attempts == 0


async def test_suppress_pending_for_contact(storage: Storage, clock: FakeClock) -> None:
    contact, other = await new_contact(storage), await new_contact(storage, "Other")
    at = clock.now()
    await add_drafts(
        storage,
        at,
        draft("funnel", contact.id, kind=OutboundKind.FUNNEL),
        draft("broadcast", contact.id, kind=OutboundKind.BROADCAST),
        draft("reply", contact.id, kind=OutboundKind.REPLY),
        draft("survey", contact.id, kind=OutboundKind.SURVEY),
        draft("sent", contact.id, kind=OutboundKind.FUNNEL),
        draft("other", other.id, kind=OutboundKind.FUNNEL),
    )
    async with storage.uow() as uow:
        sent = await uow.outbox.get_by_key("sent")
        assert sent is not None
        await uow.outbox.finish(sent.id, OutboxStatus.SENT, at)
        marketing = await uow.outbox.suppress_pending_for_contact(contact.id, "opted out", at, True)
        everything = await uow.outbox.suppress_pending_for_contact(contact.id, "blocked", at, False)
        again = await uow.outbox.suppress_pending_for_contact(contact.id, "blocked", at, False)
        rows = {key: await uow.outbox.get_by_key(key) for key in ("funnel", "reply", "other")}
    assert (marketing, everything, again) == (2, 2, 0)
    funnel, reply, untouched = rows["funnel"], rows["reply"], rows["other"]
    assert funnel is not None and (funnel.status, funnel.reason) == (
        OutboxStatus.SUPPRESSED,
        "opted out",
    )
    assert reply is not None and (reply.status, reply.reason) == (
        OutboxStatus.SUPPRESSED,
        "blocked",
    )
    assert untouched is not None and untouched.status is OutboxStatus.PENDING


async def test_mark_stale_sending_unknown(storage: Storage, clock: FakeClock) -> None:
    contact = await new_contact(storage)
    ids = await add_drafts(
        storage, clock.now(), draft("1", contact.id), draft("2", contact.id), draft("3", contact.id)
    )
    async with storage.uow() as uow:
        await uow.outbox.claim_due(clock.now(), 2)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.outbox.mark_stale_sending_unknown(clock.now()) == 2
        rows = [await uow.outbox.get(row_id) for row_id in ids]
    statuses = [(row.status, row.reason) for row in rows if row is not None]
    assert statuses == [
        (OutboxStatus.UNKNOWN, STALE_SENDING_REASON),
        (OutboxStatus.UNKNOWN, STALE_SENDING_REASON),
        (OutboxStatus.PENDING, None),
    ]
    assert STALE_SENDING_REASON == "process stopped during send; outcome unknown"


async def test_count_by_status_lists_every_status(storage: Storage, clock: FakeClock) -> None:
    async with storage.uow() as uow:
        assert await uow.outbox.count_by_status() == dict.fromkeys(OutboxStatus, 0)
    contact = await new_contact(storage)
    await add_drafts(storage, clock.now(), draft("1", contact.id), draft("2", contact.id))
    async with storage.uow() as uow:
        await uow.outbox.claim_due(clock.now(), 1)
        counts = await uow.outbox.count_by_status()
    assert counts[OutboxStatus.PENDING] == 1 and counts[OutboxStatus.SENDING] == 1
    assert sum(counts.values()) == 2
