"""The many-contacts reads a batch of funnel steps (and a bulk enrolment) makes with one query
per kind: each agrees with its one-contact counterpart, past the `IN (...)` chunk size."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from bot.domain.clock import FakeClock
from bot.domain.funnel import EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.domain.model import Channel, ConversationStatus
from bot.storage.tables import contacts as contacts_table
from bot.storage.uow import Storage

from .factories import enrollment_for, new_contact, new_conversation, new_enrollment

MANY = 1_203  # more than two `IN (...)` chunks of 500


async def test_entry_states_give_the_latest_enrollment_and_whether_inside(
    storage: Storage, clock: FakeClock
) -> None:
    left, inside, other_funnel, never = [await new_contact(storage, n) for n in "ABCD"]
    at = clock.now()
    await new_enrollment(storage, left.id, at, status=EnrollmentStatus.EXITED)
    latest_left = await new_enrollment(storage, left.id, at, status=EnrollmentStatus.COMPLETED)
    await new_enrollment(storage, inside.id, at, status=EnrollmentStatus.WAITING_REPLY)
    latest_inside = await new_enrollment(storage, inside.id, at, status=EnrollmentStatus.EXITED)
    await new_enrollment(storage, other_funnel.id, at, funnel_id="other")
    ids = [left.id, inside.id, other_funnel.id, never.id]
    async with storage.uow() as uow:
        states = await uow.enrollments.entry_states(ids, "welcome")
        for contact_id in ids:  # the same as last_for / open_for, one contact at a time
            last = await uow.enrollments.last_for(contact_id, "welcome")
            is_open = await uow.enrollments.open_for(contact_id, "welcome") is not None
            assert states.get(contact_id) == ((last, is_open) if last else None)
    assert states == {left.id: (latest_left, False), inside.id: (latest_inside, True)}


async def test_entry_states_of_many_contacts(storage: Storage, clock: FakeClock) -> None:
    ids = await add_contacts(storage, MANY)
    async with storage.uow() as uow:
        added = await uow.enrollments.add_many(
            enrollment_for(contact_id, clock.now()) for contact_id in ids[::2]
        )
        await uow.commit()
        states = await uow.enrollments.entry_states([*ids, *ids], "welcome")
    assert sorted(states) == ids[::2]
    assert sorted(last.id for last, inside in states.values() if inside) == added


async def test_identities_and_open_conversations_of_many_contacts(
    storage: Storage, clock: FakeClock
) -> None:
    ids = await add_contacts(storage, MANY)
    two_chats, none = ids[0], ids[1]
    async with storage.uow() as uow:
        for contact_id in ids[2:]:
            await uow.identities.add(contact_id, Channel.TELEGRAM, f"t{contact_id}", "1", None)
        await uow.identities.add(two_chats, Channel.WEBCHAT, "w", "w", None)
        await uow.identities.add(two_chats, Channel.TELEGRAM, "t", "t", None)
        await uow.commit()
    closed = await new_conversation(storage, two_chats, clock.now())
    older = await new_conversation(storage, ids[2], clock.now())
    newer = await new_conversation(storage, ids[2], clock.now())
    async with storage.uow() as uow:
        await uow.conversations.set_status(closed.id, ConversationStatus.CLOSED, clock.now())
        await uow.commit()
        identities = await uow.identities.for_contacts(ids)
        conversations = await uow.conversations.open_for_contacts(ids)
        for contact_id in (two_chats, none, ids[2], ids[-1]):
            assert identities.get(contact_id, []) == await uow.identities.for_contact(contact_id)
            one = await uow.conversations.open_for_contact(contact_id)
            assert conversations.get(contact_id) == one
    assert len(identities) == MANY - 1 and none not in identities
    assert conversations == {ids[2]: newer} and older.id < newer.id


async def test_sent_times_of_many_contacts(storage: Storage, clock: FakeClock) -> None:
    ids = await add_contacts(storage, MANY)
    at = clock.now()
    one = (await new_enrollment(storage, ids[0], at)).id  # the log's lines need an enrollment
    entries = [
        FunnelLogEntry(one, "welcome", contact_id, "hi", FunnelLogKind.SENT, at - ago)
        for contact_id in ids[:600]
        for ago in (timedelta(hours=30), timedelta(hours=2), timedelta(hours=1))
    ]
    entries.append(FunnelLogEntry(one, "welcome", ids[700], "x", FunnelLogKind.NOTIFIED, at))
    async with storage.uow() as uow:
        await uow.funnel_log.add_many(entries)
        await uow.commit()
        since = at - timedelta(days=1)
        times = await uow.funnel_log.sent_times_since_many(ids, since)
        for contact_id in (ids[0], ids[599], ids[700]):
            one = await uow.funnel_log.sent_times_since(contact_id, since)
            assert times.get(contact_id, []) == one
    assert sorted(times) == ids[:600]
    assert times[ids[0]] == [at - timedelta(hours=2), at - timedelta(hours=1)]


async def add_contacts(storage: Storage, count: int) -> list[int]:
    first = await new_contact(storage, "first")
    rows = [
        {"display_name": f"C{n}", "language": "en", "opted_out": False, "blocked": False,
         "attributes": {}, "created_at": storage.clock.now(), "updated_at": storage.clock.now()}
        for n in range(count - 1)
    ]  # fmt: skip
    async with storage.engine.begin() as conn:
        await conn.execute(insert(contacts_table), rows)
    return list(range(first.id, first.id + count))
