"""The funnel scans' queries (SQLite and PostgreSQL): stalled conversations, contacts gone
quiet, lapsed buyers; the `(at, id)` walk from a position, and that it runs on an index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, ConversationStatus, Direction, Sender
from bot.domain.scan_ports import ScanPosition
from bot.storage.repositories.funnel_scans import _LAPSED, _QUIET, _STALLED
from bot.storage.uow import Storage

from .factories import new_contact, new_conversation

HOUR = timedelta(hours=1)


async def say(
    storage: Storage,
    conversation_id: int,
    contact_id: int,
    text: str,
    at: datetime,
    *,
    inbound: bool = False,
    sender: Sender = Sender.BOT,
) -> int:
    async with storage.uow() as uow:
        message = await uow.messages.add(
            conversation_id,
            contact_id,
            Direction.INBOUND if inbound else Direction.OUTBOUND,
            Sender.CUSTOMER if inbound else sender,
            Channel.TELEGRAM,
            text,
            at,
        )
        await uow.commit()
    return message.id


async def chat(storage: Storage, at: datetime, name: str = "Ada") -> tuple[int, int]:
    """A new contact and their conversation: (contact id, conversation id)."""
    contact = await new_contact(storage, name)
    conversation = await new_conversation(storage, contact.id, at)
    return contact.id, conversation.id


async def paid(
    storage: Storage, contact_id: int, key: str, occurred_at: datetime, type_: str = "order_paid"
) -> int:
    async with storage.uow() as uow:
        stored = await uow.api_events.add(key, type_, contact_id, {}, occurred_at, occurred_at)
        await uow.commit()
    assert stored is not None
    return stored.id


async def stalled(storage: Storage, older_than: datetime, **kw: Any) -> list[tuple[int, int]]:
    """(conversation id, message id) of each stalled candidate."""
    args = {"status": None, "question_only": False, "after": None, "limit": 100, **kw}
    async with storage.uow() as uow:
        found = await uow.funnel_scans.stalled_conversations(older_than, **args)
    return [(c.conversation_id, c.message_id) for c in found]


async def test_ours_as_the_last_word_and_old_enough(storage: Storage, clock: FakeClock) -> None:
    t0 = clock.now()
    ada, ada_chat = await chat(storage, t0, "Ada")
    bob, bob_chat = await chat(storage, t0, "Bob")
    cy, cy_chat = await chat(storage, t0, "Cy")
    await say(storage, ada_chat, ada, "Hi", t0, inbound=True)
    question = await say(storage, ada_chat, ada, "<b>Tuesday?</b>", t0 + HOUR)
    await say(storage, bob_chat, bob, "Tuesday?", t0)
    await say(storage, bob_chat, bob, "Yes", t0 + HOUR, inbound=True)  # Bob answered
    late = await say(storage, cy_chat, cy, "Ok", t0 + 3 * HOUR, sender=Sender.AGENT)
    assert await stalled(storage, t0 + 2 * HOUR) == [(ada_chat, question)]
    assert await stalled(storage, t0 + 3 * HOUR) == [(ada_chat, question), (cy_chat, late)]
    async with storage.uow() as uow:
        [found] = await uow.funnel_scans.stalled_conversations(t0 + HOUR, None, False, None, 10)
    assert (found.contact_id, found.status) == (ada, ConversationStatus.BOT)
    assert found.text == "<b>Tuesday?</b>"
    assert found.sent_at == t0 + HOUR and found.position == ScanPosition(t0 + HOUR, question)


async def test_status_filter_and_closed_ones(storage: Storage, clock: FakeClock) -> None:
    t0 = clock.now()
    ada, ada_chat = await chat(storage, t0, "Ada")
    bob, bob_chat = await chat(storage, t0, "Bob")
    first = await say(storage, ada_chat, ada, "Hello", t0)
    second = await say(storage, bob_chat, bob, "Hello", t0)
    async with storage.uow() as uow:
        await uow.conversations.set_status(bob_chat, ConversationStatus.CLOSED, t0)
        await uow.conversations.set_status(ada_chat, ConversationStatus.WITH_AGENT, t0)
        await uow.commit()
    assert await stalled(storage, t0) == [(ada_chat, first)]  # closed ones only when asked
    assert await stalled(storage, t0, status=ConversationStatus.CLOSED) == [(bob_chat, second)]
    assert await stalled(storage, t0, status=ConversationStatus.WITH_AGENT) == [(ada_chat, first)]
    assert await stalled(storage, t0, status=ConversationStatus.BOT) == []


async def test_question_only_keeps_texts_with_a_question_mark(
    storage: Storage, clock: FakeClock
) -> None:
    t0 = clock.now()
    found = []
    for name, text in [("Ada", "Shall I book it?"), ("Bob", "Done."), ("Cy", "明天可以吗？")]:
        contact, conversation = await chat(storage, t0, name)
        message = await say(storage, conversation, contact, text, t0)
        if "Done" not in text:
            found.append((conversation, message))
    assert await stalled(storage, t0, question_only=True) == found


async def test_walks_from_a_position_in_batches(storage: Storage, clock: FakeClock) -> None:
    t0 = clock.now()
    expected = []
    for index in range(7):  # two share a moment: the id orders them
        contact, conversation = await chat(storage, t0, f"C{index}")
        at = t0 + timedelta(minutes=index // 2 * 2)
        expected.append((conversation, await say(storage, conversation, contact, "Hi", at)))
    seen: list[tuple[int, int]] = []
    position = None
    for _ in range(4):
        async with storage.uow() as uow:
            batch = await uow.funnel_scans.stalled_conversations(
                t0 + HOUR, None, False, position, 3
            )
        seen += [(c.conversation_id, c.message_id) for c in batch]
        if batch:
            position = batch[-1].position
    assert seen == expected


async def test_quiet_contacts_by_their_latest_message(storage: Storage, clock: FakeClock) -> None:
    t0 = clock.now()
    ada, ada_chat = await chat(storage, t0, "Ada")
    bob, bob_chat = await chat(storage, t0, "Bob")
    cy, cy_chat = await chat(storage, t0, "Cy")
    await say(storage, ada_chat, ada, "one", t0, inbound=True)
    ada_last = await say(storage, ada_chat, ada, "two", t0 + HOUR, inbound=True)
    await say(storage, ada_chat, ada, "our answer", t0 + 5 * HOUR)  # ours does not count
    await say(storage, bob_chat, bob, "hi", t0, inbound=True)
    await say(storage, bob_chat, bob, "again", t0 + 10 * HOUR, inbound=True)
    await say(storage, cy_chat, cy, "only ours", t0)  # Cy never wrote: never "gone quiet"
    async with storage.uow() as uow:
        found = await uow.funnel_scans.quiet_contacts(t0 + 2 * HOUR, None, 10)
        assert await uow.funnel_scans.quiet_contacts(t0 + 2 * HOUR, found[0].position, 10) == []
    assert [(c.contact_id, c.source_id, c.since) for c in found] == [(ada, ada_last, t0 + HOUR)]


async def test_lapsed_buyers_by_their_latest_paid_order(storage: Storage, clock: FakeClock) -> None:
    t0 = clock.now()
    ada, bob, cy = [await new_contact(storage, name) for name in ("Ada", "Bob", "Cy")]
    ada_last = await paid(storage, ada.id, "a2", t0 + HOUR)
    await paid(storage, ada.id, "a1", t0)  # arrived late, happened earlier: not the latest
    await paid(storage, bob.id, "b1", t0)
    await paid(storage, bob.id, "b2", t0 + 10 * HOUR)
    await paid(storage, cy.id, "c1", t0, type_="order_created")
    async with storage.uow() as uow:
        found = await uow.funnel_scans.lapsed_buyers(t0 + 2 * HOUR, None, 10)
    assert [(c.contact_id, c.source_id, c.since) for c in found] == [(ada.id, ada_last, t0 + HOUR)]


@pytest.fixture
def explained(storage: Storage) -> Iterator[list[tuple[str, Any]]]:
    """The SQL and driver parameters of every statement run on `storage.engine`."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(storage.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(storage.engine.sync_engine, "before_cursor_execute", record)


WALKS = {
    "stalled": (_STALLED[(False, False)], "ix_messages_direction_created_at_id"),
    "stalled_in_status_questions": (_STALLED[(True, True)], "ix_messages_direction_created_at_id"),
    "quiet": (_QUIET, "ix_messages_direction_created_at_id"),
    "lapsed": (_LAPSED, "ix_api_events_type_occurred_at_id"),
}


@pytest.mark.parametrize("walk", list(WALKS))
async def test_the_walk_follows_an_index_without_sorting(
    storage: Storage, clock: FakeClock, explained: list[tuple[str, Any]], walk: str
) -> None:
    """Bounded work: the rows come in index order, so the LIMIT stops the walk (a sort would
    read every row of the window first)."""
    statement, index = WALKS[walk]
    params: dict[str, Any] = {"from_at": clock.now(), "from_id": 0, "older_than": clock.now()}
    params["limit"] = 10
    if walk == "stalled_in_status_questions":
        params["wanted_status"] = "bot"
    postgres = storage.dialect == "postgresql"
    async with storage.engine.connect() as conn:
        if postgres:  # empty tables: make the planner show the plan it would use on big ones
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                await conn.exec_driver_sql(f"SET {setting} = off")
        await conn.execute(statement, params)
        sql, parameters = explained[-1]
        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        rows = await conn.exec_driver_sql(prefix + sql, parameters)
        plan = "\n".join(str(row[-1]) for row in rows)
    assert index in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan
