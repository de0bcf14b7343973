"""Long polling with two `nudge run --role web` processes on PostgreSQL: one of them polls
(the `telegram-poller` lease); when it is stopped (SIGTERM) or killed (SIGKILL) the other
takes over, and every customer message is stored once and answered once.

Each web process talks to its own address of the fake Bot API, so the fake can tell whose
getUpdates it answered. Real processes run on the real clock: the lease is kept short through
the config, and the test polls the database and the fake with a deadline."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.channels.telegram.polling_lease import POLLER_LEASE
from bot.domain.model import Direction, InboundStatus
from bot.storage.tables import inbound_updates
from bot.storage.uow import Storage
from tests.scaleout.cluster import (
    Cluster,
    FakeApi,
    free_port,
    stop_process,
    user_says,
    wait_until_settled,
)
from tests.scaleout.fake_api import FIRST_USER_ID

USERS = 4
LEASE_SECONDS = 3  # telegram.polling_lease_seconds: a killed poller is replaced within seconds
WITHIN = 60.0  # the most any condition may take before the test fails

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
async def test_one_web_process_polls_and_the_other_takes_over_when_it_stops(
    pg_storage: Storage, cluster_factory: MakeCluster, stop: str
) -> None:
    cluster, api = cluster_factory(USERS)
    addresses = [api.base_url, await api.listen_also()]
    webs = [_start_web(cluster, address) for address in addresses]
    cluster.start_worker("worker")
    await _wait_for(lambda: _has_poller(pg_storage), "a poller", cluster)
    first = await _polling_process(pg_storage, webs)
    assert first is not None, cluster.logs()[-3000:]
    second = 1 - first
    ports = [int(address.rsplit(":", 1)[1]) for address in addresses]

    await _round(api, "before")
    await _wait_for(lambda: _answered(api, USERS), "the first answers", cluster)
    assert await _polls(api, ports[second]) == []  # the other process never asked
    assert all(status == 200 for status in await _polls(api, ports[first]))

    if stop == "SIGTERM":
        stop_process(webs[first])  # gives the lease up on the way out
    else:
        webs[first].kill()
        webs[first].wait()
    polled_by_first = len(await _polls(api, ports[first]))
    await _round(api, "while nobody polls")
    await _wait_for(lambda: _is_poller(pg_storage, webs, second), "the take-over", cluster)
    await _round(api, "after")
    await _wait_for(lambda: _answered(api, 3 * USERS), "every answer", cluster)
    await _wait_for(lambda: _processed(pg_storage, 3 * USERS), "every update handled", cluster)
    await wait_until_settled(pg_storage, within=WITHIN, cluster=cluster)

    asked: list[str] = []
    async with pg_storage.uow() as uow:
        for contact in await uow.contacts.get_many(range(1, 10_000)):
            history = await uow.messages.history(contact)
            asked += [m.text or "" for m in history if m.direction is Direction.INBOUND]
    expected = sorted(
        f"{text} {user}"
        for text in ("before", "while nobody polls", "after")
        for user in range(USERS)
    )
    assert sorted(asked) == expected  # each message stored (and handled) once
    answers = await api.messages_per_chat()
    assert answers == {FIRST_USER_ID + user: 3 for user in range(USERS)}  # each answered once
    # The fake may still answer the poll that was open when the first process went (to
    # nobody: what it held was not confirmed, so the second process fetched it again).
    assert len(await _polls(api, ports[first])) <= polled_by_first + 1
    assert await _polls(api, ports[second])
    log = (cluster.folder / f"worker-{second}.log").read_text()
    assert f"holds the {POLLER_LEASE} lease and polls" in log


def _start_web(cluster: Cluster, api_server: str) -> subprocess.Popen[str]:
    return cluster.start_worker(
        "web",
        NUDGE_WEB__PORT=str(free_port()),
        NUDGE_TELEGRAM__API_SERVER=api_server,
        NUDGE_TELEGRAM__POLLING_LEASE_SECONDS=str(LEASE_SECONDS),
        NUDGE_LOGGING__LEVEL="INFO",
    )


async def _round(api: FakeApi, text: str) -> None:
    for user in range(USERS):
        await user_says(api, FIRST_USER_ID + user, f"{text} {user}")


async def _polls(api: FakeApi, port: int) -> list[int]:
    """The statuses of the getUpdates calls that came in on `port`."""
    return [call["status"] for call in await api.calls("getUpdates") if call["port"] == port]


async def _holder_pid(storage: Storage) -> int | None:
    async with storage.uow() as uow:
        holder = await uow.leases.holder(POLLER_LEASE, storage.clock.now())
    return int(holder.rsplit(":", 2)[1]) if holder else None  # host:pid:random


async def _has_poller(storage: Storage) -> bool:
    return await _holder_pid(storage) is not None


async def _polling_process(storage: Storage, webs: list[subprocess.Popen[str]]) -> int | None:
    pid = await _holder_pid(storage)
    return next((n for n, web in enumerate(webs) if web.pid == pid), None)


async def _is_poller(storage: Storage, webs: list[subprocess.Popen[str]], index: int) -> bool:
    return await _polling_process(storage, webs) == index


async def _answered(api: FakeApi, count: int) -> bool:
    return sum((await api.messages_per_chat()).values()) >= count


async def _processed(storage: Storage, count: int) -> bool:
    statement = select(func.count()).where(
        inbound_updates.c.status == InboundStatus.PROCESSED.value
    )
    async with storage.engine.connect() as conn:
        return int((await conn.execute(statement)).scalar_one()) >= count


async def _wait_for(condition: Callable[[], Awaitable[bool]], what: str, cluster: Cluster) -> None:
    """Poll `condition` until it holds (other processes: nothing here is woken by them)."""
    deadline = time.monotonic() + WITHIN
    while not await condition():
        if time.monotonic() > deadline:
            logs = "\n".join(_tail(path) for path in sorted(cluster.folder.glob("worker-*.log")))
            raise AssertionError(f"no {what} within {WITHIN}s\n{logs}")
        await asyncio.sleep(0.1)


def _tail(path: Path) -> str:
    return f"--- {path.name}\n{path.read_text()[-2000:]}"
