"""Stopping a pump: at once, or after the batch in hand (what a worker does at SIGTERM)."""

from __future__ import annotations

import asyncio

from bot.scheduling.pump import Pump


class Batches:
    """Work that runs one batch per `release()`, and reports more to do each time."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.finished = 0

    async def work(self) -> bool:
        self.started.set()
        await self.go.wait()
        self.go.clear()
        self.finished += 1
        return True  # there is always more: only stopping ends the loop


async def test_a_graceful_stop_lets_the_batch_in_hand_finish_and_takes_no_other() -> None:
    batches = Batches()
    pump = Pump("test", batches.work)
    pump.start()
    await batches.started.wait()
    stopping = asyncio.create_task(pump.stop(grace=30))
    await asyncio.sleep(0)  # the stop is now waiting for the batch
    assert not stopping.done()
    batches.go.set()
    await stopping
    assert batches.finished == 1


async def test_a_plain_stop_cancels_the_batch_in_hand() -> None:
    batches = Batches()
    pump = Pump("test", batches.work)
    pump.start()
    await batches.started.wait()
    await pump.stop()
    assert batches.finished == 0


async def test_a_graceful_stop_of_an_idle_pump_returns_at_once() -> None:
    pump = Pump("idle", Batches().work)
    await pump.stop(grace=30)  # never started
    done = asyncio.Event()

    async def nothing() -> bool:
        done.set()
        return False

    pump = Pump("idle", nothing)
    pump.start()
    await done.wait()
    await pump.drain()
    await pump.stop(grace=30)
