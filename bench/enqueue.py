"""Storing a funnel batch's messages: statements per message against one pair for the batch.

A funnel batch (the runner's 100 due steps) sends up to 100 messages in one transaction. Each
becomes an outbox row, and a `messages` log row when the contact has an open conversation.
Three ways, side by side on the same database, in alternating rounds:

* rows (the reference): per message the repository's single-row INSERT ... RETURNING for the
  outbox row and another for its log line, which is what `Outbox.enqueue` did, and so how
  funnel steps were stored, until 2026-12-06;
* enqueue: `Outbox.enqueue` once per message as it is now (a batch of one): what a reply
  to a customer costs, so a regression of the single message shows here;
* batch: `Outbox.enqueue_many` once per transaction, as the funnel runner now stores its
  batch (two statements for the lot, the rows passed as one JSON parameter).

Each round stores `--messages` drafts in transactions of `--batch`; every other contact has an
open conversation. Printed: the median wall and CPU time per 1,000 messages, and the ratios.

    python bench/enqueue.py [--messages 10000] [--batch 100] [--rounds 5] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import machine, postgres_database
from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.model import Channel, Direction, OutboundDraft, OutboundKind, Sender
from bot.storage.uow import SqlUnitOfWork, Storage

OUTBOX = Outbox({Channel.TELEGRAM: 4096})
CONTACTS = 1_000
TEXT = "Hi Ann, your cart is waiting: <b>2 items</b>, 49.90 EUR. Need a hand choosing?"


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


async def _people(storage: Storage, clock: FakeClock) -> list[tuple[int, int | None]]:
    """`CONTACTS` contacts; every other one with an open conversation."""
    people: list[tuple[int, int | None]] = []
    async with storage.uow() as uow:
        for n in range(CONTACTS):
            contact = await uow.contacts.create(f"Contact {n}", "en")
            talk = None
            if n % 2 == 0:
                opened = await uow.conversations.create(contact.id, Channel.TELEGRAM, clock.now())
                talk = opened.id
            people.append((contact.id, talk))
        await uow.commit()
    return people


def _drafts(
    people: list[tuple[int, int | None]], design: str, rnd: int, count: int
) -> list[OutboundDraft]:
    drafts = []
    for n in range(count):
        contact_id, talk = people[n % len(people)]
        drafts.append(
            OutboundDraft(
                key=f"funnel:{design}:{rnd}:{n}",
                contact_id=contact_id,
                channel=Channel.TELEGRAM,
                address=str(1_000_000 + n % len(people)),
                text=TEXT,
                kind=OutboundKind.FUNNEL,
                conversation_id=talk,
                enrollment_id=None,
                step_id="nudge",
            )
        )
    return drafts


async def _by_rows(uow: SqlUnitOfWork, chunk: list[OutboundDraft], at: datetime) -> None:
    """The reference: what `Outbox.enqueue` did per draft before (these texts are one part)."""
    for draft in chunk:
        row = await uow.outbox.add(draft, at)
        if row is not None and draft.conversation_id is not None:
            await uow.messages.add(
                draft.conversation_id, draft.contact_id, Direction.OUTBOUND, Sender.BOT,
                draft.channel, draft.text, at, outbox_id=row.id,
            )  # fmt: skip


async def _by_enqueue(uow: SqlUnitOfWork, chunk: list[OutboundDraft], at: datetime) -> None:
    for draft in chunk:
        await OUTBOX.enqueue(uow, draft, at)


async def _by_batch(uow: SqlUnitOfWork, chunk: list[OutboundDraft], at: datetime) -> None:
    await OUTBOX.enqueue_many(uow, [(draft, at) for draft in chunk])


DESIGNS: dict[str, Callable[[SqlUnitOfWork, list[OutboundDraft], datetime], Awaitable[None]]] = {
    "rows": _by_rows,
    "enqueue": _by_enqueue,
    "batch": _by_batch,
}


async def _store(storage: Storage, design: str, drafts: list[OutboundDraft], batch: int,
                 at: datetime) -> None:  # fmt: skip
    for start in range(0, len(drafts), batch):
        async with storage.uow() as uow:
            await DESIGNS[design](uow, drafts[start : start + batch], at)
            await uow.commit()


async def run(url: str, messages: int, batch: int, rounds: int) -> dict[str, Timings]:
    clock = FakeClock()
    storage = Storage(url, clock=clock)
    await storage.upgrade()
    try:
        people = await _people(storage, clock)
        timings = {design: Timings() for design in DESIGNS}
        for rnd in range(rounds):
            # Rotate which design goes first: the tables grow through the run.
            order = list(DESIGNS)[rnd % 3 :] + list(DESIGNS)[: rnd % 3]
            for design in order:
                drafts = _drafts(people, design, rnd, messages)
                wall, cpu = time.perf_counter(), time.process_time()
                await _store(storage, design, drafts, batch, clock.now())
                timings[design].wall.append(time.perf_counter() - wall)
                timings[design].cpu.append(time.process_time() - cpu)
        async with storage.uow() as uow:
            stored = sum((await uow.outbox.count_by_status()).values())
        assert stored == len(DESIGNS) * rounds * messages, f"{stored} rows stored"
        return timings
    finally:
        await storage.dispose()


def report(name: str, timings: dict[str, Timings], messages: int) -> None:
    per_k = 1000 / messages
    wall = {design: statistics.median(t.wall) for design, t in timings.items()}
    cpu = {design: statistics.median(t.cpu) for design, t in timings.items()}
    print(f"{name:<12}{'wall ms / 1,000':>18}{'CPU ms / 1,000':>18}{'messages/s':>14}"
          f"{'wall vs rows':>14}")  # fmt: skip
    for design in DESIGNS:
        print(f"  {design:<10}{wall[design] * per_k * 1000:>18.1f}"
              f"{cpu[design] * per_k * 1000:>18.1f}{messages / wall[design]:>14,.0f}"
              f"{wall['rows'] / wall[design]:>13.2f}x")  # fmt: skip
    rounds = zip(timings["rows"].wall, timings["batch"].wall, strict=True)
    print(f"  batch against rows, per round: {', '.join(f'{r / b:.2f}x' for r, b in rounds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(machine())
    print(f"{args.messages:,} messages a round, {args.batch} a transaction, {args.rounds} rounds "
          "(medians)\n")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/enqueue.db"
        timings = asyncio.run(run(url, args.messages, args.batch, args.rounds))
        report("SQLite", timings, args.messages)
    if not args.skip_postgres:
        with postgres_database() as pg:
            if pg is not None:
                timings = asyncio.run(run(pg, args.messages, args.batch, args.rounds))
                report("PostgreSQL", timings, args.messages)


if __name__ == "__main__":
    main()
