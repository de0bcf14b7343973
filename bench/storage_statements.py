"""CPU cost of the hot repository methods, per call, on a temp SQLite file.

Each method is called N times inside one unit of work (so opening and committing are not
counted) and timed with `time.process_time`; that is repeated for a few rounds and the best and
median rounds are printed in µs per call. The figure is mostly SQLAlchemy's own overhead
(building, compiling and binding the statement, processing the result), since SQLite in WAL
mode on a warm page cache takes a few µs per statement.

    python bench/storage_statements.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import machine
from bot.domain.clock import FakeClock
from bot.domain.model import (
    Channel,
    Contact,
    Direction,
    OutboundDraft,
    OutboxStatus,
    Sender,
)
from bot.storage.uow import SqlUnitOfWork, Storage

# (uow, i) -> one call of the method under test; `i` runs from 0 to N-1 within a round.
Call = Callable[[SqlUnitOfWork, int], Awaitable[Any]]


class Fixture:
    """Rows the measured calls read or change, and counters so inserts never collide."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.contact_ids: list[int] = []
        self.contact: Contact | None = None
        self.conversation_id = 0
        self.serial = 0

    def next(self) -> int:
        self.serial += 1
        return self.serial

    async def prepare(self, storage: Storage) -> None:
        async with storage.uow() as uow:
            for n in range(20):
                contact = await uow.contacts.create(f"Contact {n}", "en")
                self.contact_ids.append(contact.id)
                await uow.identities.add(contact.id, Channel.TELEGRAM, str(n), str(n), None)
            self.contact = await uow.contacts.get(self.contact_ids[0])
            conversation = await uow.conversations.create(
                self.contact_ids[0], Channel.TELEGRAM, self.clock.now()
            )
            self.conversation_id = conversation.id
            await uow.settings.put("telegram.offset", "1")
            await uow.commit()

    def draft(self, not_before: datetime | None = None) -> OutboundDraft:
        return OutboundDraft(
            key=f"bench:{self.next()}",
            contact_id=self.contact_ids[0],
            channel=Channel.TELEGRAM,
            address="0",
            text="hello",
            conversation_id=self.conversation_id,
            not_before=not_before,
        )


async def fill_outbox(storage: Storage, fx: Fixture, due: list[datetime]) -> list[int]:
    """PENDING rows due at the given times, returned by id."""
    async with storage.uow() as uow:
        ids = []
        for not_before in due:
            row = await uow.outbox.add(fx.draft(not_before), fx.clock.now())
            assert row is not None
            ids.append(row.id)
        await uow.commit()
    return ids


async def fill_inbound(storage: Storage, fx: Fixture, count: int) -> list[int]:
    async with storage.uow() as uow:
        ids = []
        for _ in range(count):
            row = await uow.inbound.add(Channel.TELEGRAM, f"u{fx.next()}", {}, fx.clock.now())
            assert row is not None
            ids.append(row.id)
        await uow.commit()
    return ids


async def measure(storage: Storage, calls: int, call: Call) -> float:
    """CPU µs per call of one round."""
    async with storage.uow() as uow:
        started = time.process_time()
        for i in range(calls):
            await call(uow, i)
        elapsed = time.process_time() - started
        await uow.commit()
    return elapsed / calls * 1e6


async def run(calls: int, rounds: int) -> None:
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        storage = Storage(f"sqlite+aiosqlite:///{tmp}/bench.db", clock=clock)
        try:
            await storage.upgrade()
            fx = Fixture(clock)
            await fx.prepare(storage)
            await bench_all(storage, fx, calls, rounds)
        finally:
            await storage.dispose()


async def bench_all(storage: Storage, fx: Fixture, calls: int, rounds: int) -> None:
    now = fx.clock.now
    cid = fx.contact_ids[0]
    assert fx.contact is not None
    contact = fx.contact
    five = fx.contact_ids[:5]
    conv = fx.conversation_id
    later = now() + timedelta(days=1)
    # Call i of claim_due runs at steps[i], when exactly one row (the i-th) is due: the steady
    # state of a dispatcher, rather than a backlog that SQLite would sort on every claim.
    steps = [now() + timedelta(seconds=i) for i in range(calls)]
    ids: list[int] = []  # the outbox / inbound rows of the current round

    async def outbox_rows() -> None:
        ids[:] = await fill_outbox(storage, fx, steps)

    async def inbound_rows() -> None:
        ids[:] = await fill_inbound(storage, fx, calls)

    cases: list[tuple[str, Call, Callable[[], Awaitable[None]] | None]] = [
        ("identities.find", lambda u, i: u.identities.find(Channel.TELEGRAM, str(i % 20)), None),
        ("contacts.get", lambda u, i: u.contacts.get(cid), None),
        ("contacts.get_many(5)", lambda u, i: u.contacts.get_many(five), None),
        ("contacts.create", lambda u, i: u.contacts.create("New", "en"), None),
        ("contacts.update", lambda u, i: u.contacts.update(contact), None),
        (
            "conversations.open_for_contact",
            lambda u, i: u.conversations.open_for_contact(cid),
            None,
        ),
        (
            "conversations.create",
            lambda u, i: u.conversations.create(cid, Channel.WEBCHAT, now()),
            None,
        ),
        (
            "conversations.touch",
            lambda u, i: u.conversations.touch(conv, Channel.WEBCHAT, now()),
            None,
        ),
        (
            "messages.add",
            lambda u, i: u.messages.add(
                conv, cid, Direction.INBOUND, Sender.CUSTOMER, Channel.TELEGRAM, "hi", now()
            ),
            None,
        ),
        (
            "messages.set_channel_message_id",
            lambda u, i: u.messages.set_channel_message_id(i, "m"),
            None,
        ),
        # Not due before the claim_due case has run: it would find them all.
        ("outbox.add", lambda u, i: u.outbox.add(fx.draft(later), now()), None),
        ("outbox.claim_due(1)", lambda u, i: u.outbox.claim_due(steps[i], 1), outbox_rows),
        (
            "outbox.finish",
            lambda u, i: u.outbox.finish(ids[i], OutboxStatus.SENT, now(), None, "m"),
            outbox_rows,
        ),
        (
            "outbox.reschedule",
            lambda u, i: u.outbox.reschedule(ids[i], later, "x", True),
            outbox_rows,
        ),
        (
            "inbound.add",
            lambda u, i: u.inbound.add(Channel.TELEGRAM, f"n{fx.next()}", {"a": 1}, now()),
            None,
        ),
        ("inbound.claim_pending(1)", lambda u, i: u.inbound.claim_pending(1), inbound_rows),
        ("inbound.mark", lambda u, i: u.inbound.mark(ids[i], True, None, now()), inbound_rows),
        ("settings.get", lambda u, i: u.settings.get("telegram.offset"), None),
        ("settings.put", lambda u, i: u.settings.put("telegram.offset", str(i)), None),
    ]
    print(f"{machine()}\n{calls} calls x {rounds} rounds, CPU µs per call (best / median)")
    total_best = 0.0
    for name, call, setup in cases:
        figures = []
        for _ in range(rounds):
            if setup is not None:
                await setup()
            figures.append(await measure(storage, calls, call))
        best = min(figures)
        total_best += best
        print(f"  {name:34} {best:8.1f} {statistics.median(figures):8.1f}")
    print(f"  {'sum of best':34} {total_best:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.rounds))


if __name__ == "__main__":
    main()
