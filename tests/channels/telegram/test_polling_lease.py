"""Long polling with two web processes (two pollers in this test process, each with its own
aiogram Bot on its own address of the fake Bot API): only the holder of the `telegram-poller`
lease polls, and the other takes over when it stops or dies. Lease time is the injected clock;
the renewal loop's sleep is driven by the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import pytest

from bot.channels.telegram.client import build_bot
from bot.channels.telegram.polling_lease import POLLER_LEASE, LeasedPolling
from bot.channels.telegram.receiver import TelegramReceiver
from bot.domain.clock import FakeClock
from bot.fake_telegram import FakeTelegramServer, FakeUser
from bot.storage.uow import Storage

TOKEN = "42:POLLING-LEASE"
TTL = timedelta(seconds=30)
WAIT = 10.0  # the most a condition may take to come true before the test fails


class Ticks:
    """The renewal loop's sleep, moved by the test: `tick()` lets one sleep end and returns
    once the loop sleeps again, i.e. once the renewal in between is done."""

    def __init__(self) -> None:
        self._go: asyncio.Queue[None] = asyncio.Queue()
        self._asleep = asyncio.Event()
        self.naps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self._asleep.set()
        await self._go.get()

    async def tick(self) -> None:
        await asyncio.wait_for(self._asleep.wait(), WAIT)
        self._asleep.clear()
        self._go.put_nowait(None)
        await asyncio.wait_for(self._asleep.wait(), WAIT)


@dataclass
class WebProcess:
    name: str
    port: int
    polling: LeasedPolling
    ticks: Ticks


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        server.add_bot(TOKEN, username="lease_bot")
        yield server


@pytest.fixture
async def processes(
    storage: Storage, clock: FakeClock, fake: FakeTelegramServer
) -> AsyncIterator[list[WebProcess]]:
    """Two web processes of one bot, not started; each talks to its own address of the fake."""
    made: list[WebProcess] = []
    bots = []
    for name in ("web-a", "web-b"):
        base_url = await fake.listen_also()
        bot = build_bot(TOKEN, base_url, 10)
        bots.append(bot)
        receiver = TelegramReceiver(storage.uow, clock, lambda: None, bot=bot)
        ticks = Ticks()
        polling = LeasedPolling(
            storage.uow,
            clock,
            name,
            partial(receiver.poll_forever, poll_seconds=5),
            ttl=TTL,
            sleep=ticks.sleep,
        )
        made.append(WebProcess(name, int(base_url.rsplit(":", 1)[1]), polling, ticks))
    yield made
    for process in made:
        await process.polling.stop()
    for bot in bots:
        await bot.session.close()


def polls_via(fake: FakeTelegramServer, process: WebProcess) -> list[int]:
    """The statuses of the getUpdates calls that came from `process`."""
    return [call.status for call in fake.calls("getUpdates", TOKEN) if call.port == process.port]


async def stored_texts(storage: Storage) -> list[str]:
    async with storage.uow() as uow:
        rows = await uow.inbound.claim_pending(1000)
    return sorted(row.payload["message"]["text"] for row in rows)


async def holder(storage: Storage, clock: FakeClock) -> str | None:
    async with storage.uow() as uow:
        return await uow.leases.holder(POLLER_LEASE, clock.now())


async def test_only_the_lease_holder_polls_and_the_other_takes_over_when_it_stops(
    storage: Storage, clock: FakeClock, fake: FakeTelegramServer, processes: list[WebProcess]
) -> None:
    a, b = processes
    ann = fake.add_user(user_id=7, first_name="Ann")
    await a.polling.start()  # first (alone, e.g. on SQLite): it polls at once
    await b.polling.start()
    assert (a.polling.polling, b.polling.polling) == (True, False)
    assert await holder(storage, clock) == "web-a"
    await say(fake, ann, "first", confirmed=1)
    clock.advance(TTL / 3)
    await a.ticks.tick()
    await b.ticks.tick()  # a renewed: b keeps waiting
    assert (a.polling.polling, b.polling.polling) == (True, False)
    assert polls_via(fake, b) == []
    assert a.ticks.naps[0] == b.ticks.naps[0] == (TTL / 3).total_seconds()

    await a.polling.stop()  # SIGTERM: stops polling and gives the lease up
    polled_by_a = len(polls_via(fake, a))
    assert not a.polling.polling
    await fake.send_text(TOKEN, ann, "while nobody polls")
    await b.ticks.tick()  # b's next try takes the released lease, before it would expire
    assert b.polling.polling and await holder(storage, clock) == "web-b"
    await fake.wait_for_updates_confirmed(TOKEN, 2, timeout=WAIT)
    await say(fake, ann, "after", confirmed=3)

    assert await stored_texts(storage) == ["after", "first", "while nobody polls"]
    assert len(polls_via(fake, a)) <= polled_by_a + 1  # at most its poll in flight at the stop
    assert polls_via(fake, b)


async def test_a_holder_that_stops_renewing_is_replaced_after_the_ttl_and_stops_polling(
    storage: Storage, clock: FakeClock, fake: FakeTelegramServer, processes: list[WebProcess]
) -> None:
    a, b = processes
    ann = fake.add_user(user_id=8, first_name="Bo")
    await a.polling.start()
    await b.polling.start()
    await say(fake, ann, "before", confirmed=1)
    # a is frozen (a long pause, a machine gone): it renews no more.
    clock.advance(TTL - timedelta(seconds=1))
    await b.ticks.tick()
    assert not b.polling.polling  # a's lease has not run out yet
    clock.advance(timedelta(seconds=1))
    await b.ticks.tick()
    assert b.polling.polling and await holder(storage, clock) == "web-b"
    await a.ticks.tick()  # a wakes up, finds the lease lost and stops polling
    assert not a.polling.polling and not a.polling.lease.is_leader
    polled_by_a = len(polls_via(fake, a))
    await say(fake, ann, "after", confirmed=2)

    assert await stored_texts(storage) == ["after", "before"]
    assert len(polls_via(fake, a)) <= polled_by_a + 1  # nothing new after its last poll
    await a.polling.stop()  # it does not hold the lease: giving it up leaves b's alone
    assert await holder(storage, clock) == "web-b"


async def say(fake: FakeTelegramServer, user: FakeUser, text: str, *, confirmed: int) -> None:
    """`user` writes `text`; returns once Telegram saw `confirmed` updates in all confirmed,
    which the poller does only after storing them."""
    await fake.send_text(TOKEN, user, text)
    await fake.wait_for_updates_confirmed(TOKEN, confirmed, timeout=WAIT)
