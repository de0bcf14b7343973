"""The leader lease: one process runs the once-per-cluster jobs; when it dies, another takes
over after the lease expires (on the injected clock)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.clock import FakeClock
from bot.scheduling.leader import LeaderLease, on_leader_only
from bot.storage.uow import Storage

TTL = timedelta(seconds=30)


def _workers(storage: Storage, clock: FakeClock, count: int) -> list[LeaderLease]:
    return [LeaderLease(storage.uow, clock, f"worker-{n}", ttl=TTL) for n in range(count)]


async def test_one_worker_leads_and_another_takes_over_when_it_dies(
    storage: Storage, clock: FakeClock
) -> None:
    a, b = _workers(storage, clock, 2)
    assert await a.renew() is True
    assert await b.renew() is False
    clock.advance(TTL / 3)
    assert await a.renew() and not await b.renew()  # a renews: b keeps waiting
    # a dies (stops renewing). Until its lease expires nobody else runs the jobs...
    clock.advance(TTL - timedelta(seconds=1))
    assert await b.renew() is False
    async with storage.uow() as uow:
        assert await uow.leases.holder(a.name, clock.now()) == "worker-0"
    # ...and a itself stopped leading a third of the ttl before that, whatever its clock says.
    assert a.is_leader is False
    clock.advance(timedelta(seconds=1))
    assert await b.renew() is True
    async with storage.uow() as uow:
        assert await uow.leases.holder(b.name, clock.now()) == "worker-1"


async def test_a_leader_that_comes_back_late_finds_it_lost_and_is_told(
    storage: Storage, clock: FakeClock
) -> None:
    a, b = _workers(storage, clock, 2)
    changes: list[str] = []

    async def gained() -> None:
        changes.append("gained")

    async def lost() -> None:
        changes.append("lost")

    a.on_gained.append(gained)
    a.on_lost.append(lost)
    await a.renew()
    clock.advance(TTL)  # a was paused (a long GC, a frozen VM): b takes over meanwhile
    assert await b.renew() is True
    assert await a.renew() is False
    assert changes == ["gained", "lost"]


async def test_a_released_lease_is_taken_at_the_next_try(
    storage: Storage, clock: FakeClock
) -> None:
    a, b = _workers(storage, clock, 2)
    await a.renew()
    await a.release()  # a clean shutdown
    assert a.is_leader is False
    assert await b.renew() is True


async def test_many_workers_trying_at_once_elect_exactly_one(
    storage: Storage, clock: FakeClock
) -> None:
    workers = _workers(storage, clock, 8)
    results = await asyncio.gather(*(worker.renew() for worker in workers))
    assert sum(results) == 1
    clock.advance(TTL)
    results = await asyncio.gather(*(worker.renew() for worker in workers))
    assert sum(results) == 1


async def test_a_job_runs_on_the_leader_only(storage: Storage, clock: FakeClock) -> None:
    a, b = _workers(storage, clock, 2)
    runs: list[str] = []

    def job(name: str):  # type: ignore[no-untyped-def]
        async def work() -> bool:
            runs.append(name)
            return False

        return on_leader_only({"a": a, "b": b}[name])(work)

    await a.renew()
    await b.renew()
    await job("a")()
    await job("b")()
    assert runs == ["a"]


async def test_a_job_renews_a_lease_whose_renewal_is_due(
    storage: Storage, clock: FakeClock
) -> None:
    [only] = _workers(storage, clock, 1)
    runs: list[int] = []

    @on_leader_only(only)
    async def work() -> bool:
        runs.append(1)
        return False

    await only.renew()
    clock.advance(TTL * 3)  # the renewal timer did not run meanwhile (the clock jumped)
    await work()
    assert runs == [1] and only.is_leader


async def test_a_take_over_that_failed_is_tried_again_at_the_next_renewal(
    storage: Storage, clock: FakeClock
) -> None:
    [only] = _workers(storage, clock, 1)
    starts: list[str] = []

    async def start_desk() -> None:
        starts.append("try")
        if len(starts) == 1:
            raise ConnectionError("Telegram unreachable")

    only.on_gained.append(start_desk)
    assert await only.renew() is True  # leads, but the desk did not start
    clock.advance(only.renew_every)
    await only.renew()
    assert starts == ["try", "try"]
    clock.advance(only.renew_every)
    await only.renew()
    assert starts == ["try", "try"]  # started: not again
