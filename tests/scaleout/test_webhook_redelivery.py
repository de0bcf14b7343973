"""A webhook delivered three times, and a web process killed between receiving an update and
storing it: each update has exactly one effect (one stored inbound row, one reply).

Real processes on the local PostgreSQL: a web process in webhook mode (`--role web`), a worker
(`--role worker`) and the fake Bot API, which pushes updates to the webhook and, like Telegram,
delivers an update again until it is answered 2xx. tests/e2e/test_telegram.py covers, in one
process, three sequential posts and a process stopped cleanly after it stored an update; here
the process dies by SIGKILL with the update in hand, and the three posts arrive at once.

"In hand" is made certain, not hoped for: the test holds a SHARE lock on inbound_updates, so the
web process's INSERT waits; the test sees that backend waiting in pg_stat_activity (the HTTP
request is then received and unanswered) and kills the process right there.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from sqlalchemy import select, text

from bot.domain.model import InboundStatus
from bot.storage.tables import inbound_updates
from bot.storage.uow import Storage
from tests.scaleout.cluster import Cluster, FakeApi, free_port, user_says, wait_until_settled
from tests.scaleout.fake_api import FIRST_USER_ID

SECRET = "redelivery-test-webhook-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


def _start_web(cluster: Cluster, port: int) -> Any:
    return cluster.start_worker(
        "web",
        NUDGE_WEB__PORT=str(port),
        NUDGE_TELEGRAM__MODE="webhook",
        NUDGE_WEB__PUBLIC_URL=f"http://127.0.0.1:{port}",
        NUDGE_TELEGRAM_WEBHOOK_SECRET=SECRET,
    )


async def _wait_until_insert_waits(storage: Storage, cluster: Cluster) -> None:
    """Poll until a backend (the web process's) is waiting on our lock to insert the update.
    Each poll is a transaction of its own: pg_stat_activity is a snapshot per transaction."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND datname = current_database() AND query ILIKE '%INSERT INTO inbound_updates%'"
    )
    deadline = time.monotonic() + 60
    while True:
        async with storage.engine.connect() as conn:
            if (await conn.execute(query)).scalar_one():
                return
        assert time.monotonic() < deadline, f"no insert waited within 60s\n{cluster.logs()[-3000:]}"
        await asyncio.sleep(0.05)


async def _inbound_rows(storage: Storage) -> list[tuple[str, str, dict[str, Any]]]:
    columns = (inbound_updates.c.external_key, inbound_updates.c.status, inbound_updates.c.payload)
    async with storage.engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(select(*columns))]


async def _wait_processed(storage: Storage, count: int, cluster: Cluster) -> None:
    deadline = time.monotonic() + 60
    while True:
        rows = await _inbound_rows(storage)
        if sum(status == InboundStatus.PROCESSED.value for _, status, _ in rows) >= count:
            return
        assert time.monotonic() < deadline, f"{rows}\n{cluster.logs()[-3000:]}"
        await asyncio.sleep(0.1)


async def _post_three_times_at_once(port: int, update: dict[str, Any]) -> list[int]:
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    async with aiohttp.ClientSession(headers={SECRET_HEADER: SECRET}) as http:

        async def post() -> int:
            async with http.post(url, json=update) as answer:
                return answer.status

        return list(await asyncio.gather(post(), post(), post()))


async def test_an_update_in_hand_of_a_killed_web_process_and_posted_three_times_acts_once(
    pg_storage: Storage, cluster_factory: MakeCluster
) -> None:
    cluster, api = cluster_factory(1)
    port = free_port()
    async with pg_storage.engine.connect() as locker:
        await locker.execute(text("LOCK TABLE inbound_updates IN SHARE MODE"))
        victim = _start_web(cluster, port)
        await user_says(api, FIRST_USER_ID, "hello, anyone there?")
        await _wait_until_insert_waits(pg_storage, cluster)
        victim.send_signal(signal.SIGKILL)  # the update received, not stored, not answered
        victim.wait()
        await locker.rollback()
    assert await _inbound_rows(pg_storage) == []  # nothing of it was stored half-way

    _start_web(cluster, port)  # as systemd would; Telegram (the fake) delivers it again
    cluster.start_worker()
    await _wait_processed(pg_storage, 1, cluster)
    [(key, _, payload)] = await _inbound_rows(pg_storage)
    statuses = await _post_three_times_at_once(port, payload)
    await wait_until_settled(pg_storage, within=60, cluster=cluster)

    assert statuses == [200, 200, 200]  # a duplicate is acknowledged, so Telegram stops
    rows = await _inbound_rows(pg_storage)
    assert [(k, status) for k, status, _ in rows] == [(key, InboundStatus.PROCESSED.value)]
    assert sum((await api.messages_per_chat()).values()) == 1  # one reply, to that one update
    assert all(process.poll() is None for process in cluster.workers[1:]), cluster.logs()
