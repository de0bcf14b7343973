"""Real worker processes on one PostgreSQL, sending to the fake Bot API in its own process:
nothing lost, nothing sent twice, even when a worker is killed in the middle of a batch."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from bot.domain.model import OutboxStatus
from bot.storage.repositories.outbox import STALE_SENDING_REASON
from bot.storage.uow import Storage
from tests.scaleout.cluster import (
    Cluster,
    FakeApi,
    seed_outbox,
    wait_for,
    wait_until_settled,
)

ROWS = 2000
CHATS = 400
SHORT_REQUESTS = {"NUDGE_TELEGRAM__REQUEST_TIMEOUT_SECONDS": "1.5"}

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


def _texts_of_rows(count: int) -> set[str]:
    return {f"message {n}" for n in range(count)}


async def _statuses(storage: Storage) -> dict[str, tuple[str, str | None]]:
    """text -> (status, reason) of every outbox row."""
    from sqlalchemy import select

    from bot.storage.tables import outbox

    async with storage.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.text, outbox.c.status, outbox.c.reason))
        return {text: (status, reason) for text, status, reason in rows}


@pytest.mark.parametrize("workers", [2, 4])
async def test_workers_send_every_row_exactly_once(
    pg_storage: Storage, cluster_factory: MakeCluster, workers: int
) -> None:
    cluster, api = cluster_factory(CHATS)
    await seed_outbox(pg_storage, ROWS, CHATS)
    for _ in range(workers):
        cluster.start_worker()

    settled = await wait_until_settled(pg_storage, within=120, cluster=cluster)

    assert settled[OutboxStatus.SENT] == ROWS, settled
    delivered = await api.texts()
    assert set(delivered) == _texts_of_rows(ROWS)  # nothing lost
    assert [text for text, times in delivered.items() if times > 1] == []  # no duplicate
    assert all(process.poll() is None for process in cluster.workers), cluster.logs()


async def test_a_worker_killed_mid_dispatch_loses_nothing_and_repeats_nothing(
    pg_storage: Storage, cluster_factory: MakeCluster
) -> None:
    # Slow answers keep a batch in flight long enough to kill its worker in the middle of it;
    # a short lease lets the restarted worker settle the dead one's rows within the test. The
    # lease must outlast a claim's sends (bot/config/lease_check.py): a short request timeout.
    cluster, api = cluster_factory(CHATS, lease_seconds=12)
    await api.slow_sends(0.2)
    await seed_outbox(pg_storage, ROWS, CHATS)
    victim = cluster.start_worker(**SHORT_REQUESTS)
    await wait_for(pg_storage, OutboxStatus.SENT, at_least=200, within=60)
    await wait_for(pg_storage, OutboxStatus.SENDING, at_least=1, within=60)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    in_flight = await _count(pg_storage, OutboxStatus.SENDING)
    cluster.start_worker(**SHORT_REQUESTS)

    settled = await wait_until_settled(pg_storage, within=180, cluster=cluster)

    statuses = await _statuses(pg_storage)
    unknown = {text for text, (status, _) in statuses.items() if status == "unknown"}
    assert 0 < len(unknown) <= in_flight
    assert {statuses[text][1] for text in unknown} == {STALE_SENDING_REASON}
    assert settled[OutboxStatus.SENT] + len(unknown) == ROWS, settled
    delivered = await api.texts()
    assert [text for text, times in delivered.items() if times > 1] == []  # never resent
    sent = {text for text, (status, _) in statuses.items() if status == "sent"}
    assert sent <= set(delivered)  # every row recorded sent did reach Telegram
    assert set(delivered) - sent <= unknown  # the rest that arrived are the in-flight ones


async def _count(storage: Storage, status: OutboxStatus) -> int:
    async with storage.uow() as uow:
        return (await uow.outbox.count_by_status())[status]
