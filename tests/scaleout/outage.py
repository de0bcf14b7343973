"""The PostgreSQL outage scenario, shared by tests/scaleout/test_outage.py (a short outage) and
bench/outage.py (the issue's 30 seconds, with figures): a worker process dispatching due outbox
rows to the fake Bot API while its own PostgreSQL instance is stopped and started again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from bot.domain.clock import SystemClock
from bot.domain.model import OutboxStatus
from bot.storage.tables import outbox
from bot.storage.uow import Storage
from tests.scaleout.cluster import (
    NUDGE,
    ROOT,
    TOKEN,
    Cluster,
    FakeApi,
    counts,
    seed_outbox,
    start_fake_api,
    wait_for,
    wait_until_settled,
)
from tests.scaleout.own_postgres import OwnPostgres, create_own_postgres


@dataclass
class OutageReport:
    rows: int
    outage_seconds: float | None  # None: the reference run, never stopped
    statuses: dict[str, tuple[str, str | None]]  # text -> (status, reason)
    delivered: Counter[str]  # text -> how many times the fake Bot API accepted it
    sent_before_stop: int
    in_flight_at_stop: int  # rows SENDING when the stop was asked for
    settle_seconds: float  # from the restart (or, for the reference, the start) to settled
    total_seconds: float
    worker_alive: bool
    logs: str

    def with_status(self, status: OutboxStatus) -> set[str]:
        return {text for text, (found, _) in self.statuses.items() if found == status.value}

    @property
    def duplicates(self) -> set[str]:
        return {text for text, times in self.delivered.items() if times > 1}


def _upgrade(cluster: Cluster) -> None:
    """`nudge db upgrade`, the real command, against the instance."""
    env = {**os.environ, "NUDGE_TELEGRAM_TOKEN": TOKEN, "NUDGE_CONFIG": ""}
    command = [*NUDGE, "--config", str(cluster.config_path()), "db", "upgrade"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"nudge db upgrade failed:\n{done.stdout}{done.stderr}")


async def _statuses(storage: Storage) -> dict[str, tuple[str, str | None]]:
    async with storage.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.text, outbox.c.status, outbox.c.reason))
        return {text: (status, reason) for text, status, reason in rows}


async def _interrupt(
    storage: Storage, instance: OwnPostgres, outage_seconds: float
) -> tuple[int, int]:
    """Stop the instance while sends are in flight, keep it down, start it again; returns
    (rows sent, rows in flight) as seen just before the stop."""
    now = await counts(storage)
    await storage.engine.dispose()  # the test's own connections would only see the outage
    instance.stop("fast")
    # The outage itself (the thing under test), not a wait for something to happen.
    await asyncio.sleep(outage_seconds)
    instance.start()
    return now[OutboxStatus.SENT], now[OutboxStatus.SENDING]


async def run_outage(
    folder: Path, outage_seconds: float | None, rows: int, chats: int, slow: float
) -> OutageReport:
    """One run on a fresh instance; everything it started is stopped and removed at the end,
    whatever happens."""
    instance = create_own_postgres()
    api: FakeApi | None = None
    cluster: Cluster | None = None
    storage: Storage | None = None
    try:
        instance.start()
        api = start_fake_api(chats)
        await api.slow_sends(slow)  # slow answers: sends are in flight when the stop comes
        cluster = Cluster(folder, instance.url, api.base_url)
        _upgrade(cluster)
        storage = Storage(instance.url, clock=SystemClock())
        await seed_outbox(storage, rows, chats)
        started = time.monotonic()
        worker = cluster.start_worker()
        sent_before, in_flight = 0, 0
        if outage_seconds is not None:
            await wait_for(storage, OutboxStatus.SENT, at_least=rows // 10, within=60)
            await wait_for(storage, OutboxStatus.SENDING, at_least=1, within=60)
            sent_before, in_flight = await _interrupt(storage, instance, outage_seconds)
        resumed = time.monotonic()
        await wait_until_settled(storage, within=180, cluster=cluster)
        finished = time.monotonic()
        return OutageReport(
            rows=rows,
            outage_seconds=outage_seconds,
            statuses=await _statuses(storage),
            delivered=await api.texts(),
            sent_before_stop=sent_before,
            in_flight_at_stop=in_flight,
            settle_seconds=finished - resumed,
            total_seconds=finished - started,
            worker_alive=worker.poll() is None,
            logs=cluster.logs(),
        )
    finally:
        if cluster is not None:
            cluster.stop()
        if api is not None:
            api.stop()
        if storage is not None:
            await storage.dispose()
        instance.destroy()
