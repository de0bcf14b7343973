"""The repositories run prebuilt statements with their values as parameters.

Building a statement per call costs more CPU than running it on SQLite (see
`bot/storage/repositories/_base.py` and `bench/storage_statements.py`); these tests keep the
hot path on prebuilt statements and check what binding values as parameters could get wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from bot.domain.clock import FakeClock
from bot.domain.model import (
    Channel,
    ConversationStatus,
    Direction,
    OutboxStatus,
    Sender,
)
from bot.domain.ports import UnitOfWork
from bot.storage.errors import StorageConfigError
from bot.storage.repositories._base import PerDialect
from bot.storage.repositories.contacts import _IN_CHUNK
from bot.storage.sqlite_inline import InlineSqliteConnection
from bot.storage.tables import settings
from bot.storage.uow import Storage

from .factories import add_drafts, draft, new_contact, new_conversation


def _record_statements(monkeypatch: pytest.MonkeyPatch) -> list[Executable]:
    """Every statement executed from now on, kept alive so that `is` comparisons are sound."""
    executed: list[Executable] = []
    for cls in (InlineSqliteConnection, AsyncConnection):
        original = cls.execute

        async def execute(
            self: Any, statement: Executable, *args: Any, _original: Any = original, **kw: Any
        ) -> Any:
            executed.append(statement)
            return await _original(self, statement, *args, **kw)

        monkeypatch.setattr(cls, "execute", execute)
    return executed


async def _hot_path(uow: UnitOfWork, n: int, clock: FakeClock) -> None:
    """One round of the calls an inbound message and its reply make; `n` varies the values."""
    at = clock.now() + timedelta(seconds=n)
    contact = await uow.contacts.create(f"Contact {n}", "en")
    identity = await uow.identities.add(contact.id, Channel.TELEGRAM, f"u{n}", f"c{n}", None)
    assert await uow.identities.find(Channel.TELEGRAM, identity.external_id) == identity
    assert await uow.contacts.get(contact.id) == contact
    assert set(await uow.contacts.get_many([contact.id, contact.id + 1000])) == {contact.id}
    contact.attributes = {"n": n}
    await uow.contacts.update(contact)
    assert await uow.conversations.open_for_contact(contact.id) is None
    conversation = await uow.conversations.create(contact.id, Channel.TELEGRAM, at)
    await uow.conversations.touch(conversation.id, Channel.WEBCHAT, at)
    await uow.messages.add(
        conversation.id, contact.id, Direction.INBOUND, Sender.CUSTOMER, Channel.TELEGRAM, "hi", at
    )
    row = await uow.outbox.add(draft(f"reply-{n}", contact.id), at)
    assert row is not None
    [claimed] = await uow.outbox.claim_due(at, 1)
    assert claimed.id == row.id
    await uow.outbox.reschedule(row.id, at, "retry", attempt=True)
    await uow.outbox.finish(row.id, OutboxStatus.SENT, at, channel_message_id=str(n))
    await uow.messages.set_channel_message_id(row.id, str(n))
    update = await uow.inbound.add(Channel.TELEGRAM, str(n), {"n": n}, at)
    assert update is not None
    assert [u.id for u in await uow.inbound.claim_pending(1)] == [update.id]
    await uow.inbound.mark(update.id, True, None, at)
    await uow.settings.put("offset", str(n))
    assert await uow.settings.get("offset") == str(n)


async def test_the_hot_path_reuses_its_statements(
    storage: Storage, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    executed = _record_statements(monkeypatch)
    async with storage.uow() as uow:
        await _hot_path(uow, 1, clock)
        first = list(executed)
        executed.clear()
        await _hot_path(uow, 2, clock)
        await uow.commit()
    assert len(executed) == len(first) >= 20
    rebuilt = [str(new) for old, new in zip(first, executed, strict=True) if new is not old]
    assert rebuilt == []


async def test_finish_leaves_unset_columns_alone(storage: Storage, clock: FakeClock) -> None:
    """finish() picks a statement per combination of columns: a value it does not set (a
    channel message id it was not given, sent_at when not SENT) keeps what the row had."""
    contact = await new_contact(storage)
    [row_id] = await add_drafts(storage, clock.now(), draft("f", contact.id))
    sent_at = clock.now()
    async with storage.uow() as uow:
        await uow.outbox.finish(row_id, OutboxStatus.SENT, sent_at, channel_message_id="42")
        clock.advance(10)
        await uow.outbox.finish(row_id, OutboxStatus.UNKNOWN, clock.now(), reason="later")
        await uow.commit()
    async with storage.uow() as uow:
        row = await uow.outbox.get(row_id)
    assert row is not None
    assert (row.status, row.reason, row.channel_message_id) == (OutboxStatus.UNKNOWN, "later", "42")
    assert row.sent_at == sent_at


NaiveCall = Callable[[UnitOfWork, int, int, datetime], Awaitable[object]]

_NAIVE_CALLS: dict[str, NaiveCall] = {
    "conversations.touch": lambda uow, _c, conv, at: uow.conversations.touch(
        conv, Channel.TELEGRAM, at
    ),
    "conversations.set_status": lambda uow, _c, conv, at: uow.conversations.set_status(
        conv, ConversationStatus.CLOSED, at
    ),
    "messages.add": lambda uow, c, conv, at: uow.messages.add(
        conv, c, Direction.INBOUND, Sender.CUSTOMER, Channel.TELEGRAM, "hi", at
    ),
    "outbox.add": lambda uow, c, _conv, at: uow.outbox.add(draft("naive", c), at),
    "outbox.claim_due": lambda uow, _c, _conv, at: uow.outbox.claim_due(at, 10),
    "outbox.finish": lambda uow, _c, _conv, at: uow.outbox.finish(1, OutboxStatus.SENT, at),
    "outbox.reschedule": lambda uow, _c, _conv, at: uow.outbox.reschedule(1, at, None, True),
    "outbox.suppress": lambda uow, c, _conv, at: uow.outbox.suppress_pending_for_contact(
        c, "stop", at, marketing_only=False
    ),
    "outbox.mark_stale": lambda uow, _c, _conv, at: uow.outbox.mark_stale_sending_unknown(at),
    "inbound.add": lambda uow, _c, _conv, at: uow.inbound.add(Channel.TELEGRAM, "1", {}, at),
    "inbound.mark": lambda uow, _c, _conv, at: uow.inbound.mark(1, True, None, at),
}


@pytest.mark.parametrize("name", list(_NAIVE_CALLS))
async def test_every_datetime_parameter_has_the_utc_type(
    storage: Storage, clock: FakeClock, name: str
) -> None:
    """A parameter without the column's type would store a naive datetime as it is."""
    contact = await new_contact(storage)
    conversation = await new_conversation(storage, contact.id, clock.now())
    async with storage.uow() as uow:
        with pytest.raises(StatementError, match="naive datetime"):
            await _NAIVE_CALLS[name](uow, contact.id, conversation.id, datetime(2026, 1, 1))


async def test_get_many_beyond_one_chunk(storage: Storage) -> None:
    async with storage.uow() as uow:
        created = [await uow.contacts.create(f"c{n}", None) for n in range(_IN_CHUNK + 7)]
        await uow.commit()
    ids = [contact.id for contact in created]
    async with storage.uow() as uow:
        found = await uow.contacts.get_many([*reversed(ids), 0, ids[0]])
        one = await uow.contacts.get_many([ids[-1]])
    assert found == {contact.id: contact for contact in created}
    assert one == {ids[-1]: created[-1]}


def test_a_database_without_statements_is_reported() -> None:
    statements = PerDialect(lambda insert: insert(settings))
    conn: Any = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    with pytest.raises(StorageConfigError, match="'mysql'"):
        statements.of(conn)
