"""Throughput of 1, 2 and 4 worker processes (`nudge run --role worker`) on one PostgreSQL,
sending N due outbox rows to the fake Bot API (its own process) with the rate limits off.

The reference is the 1-worker run in the same script; the figure is the ratio of the others to
it (goal: 2 workers >= 1.7x). Each run gets a fresh database; the workers are started and
ready before the rows are committed in one transaction, and the clock runs from that commit
until no row is pending or being sent. Every run also checks that each row reached the fake
server exactly once. CPU seconds used during the run are printed per party (workers, the fake
Bot API, PostgreSQL's processes): on a 2-core machine they tell whether a second worker had a
core to run on at all.

    .venv/bin/python bench/scale.py --rows 20000 --workers 1 2 4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import cpu_seconds, machine
from bot.domain.clock import SystemClock
from bot.domain.model import OutboxStatus
from bot.storage.uow import Storage
from tests.scaleout.cluster import (
    Cluster,
    counts,
    funnel_work_done,
    seed_funnel,
    seed_outbox,
    start_fake_api,
    write_funnel,
)

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "nudge_bench_scale"
URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}"


@dataclass
class Run:
    workers: int
    rows: int
    seconds: float
    cpu_workers: float
    cpu_api: float
    cpu_postgres: float
    duplicates: int
    lost: int
    load: float  # the machine's 1-minute load average at the end of the run

    @property
    def per_worker_cpu_second(self) -> float:
        """Rows per CPU-second of the workers: what coordination costs, whatever the load."""
        return self.rows / self.cpu_workers

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


async def postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the bench database (not the other
    databases of the machine)."""
    admin = await asyncpg.connect(SERVER)
    try:
        rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", DATABASE)
    finally:
        await admin.close()
    return {row["pid"]: _cpu([row["pid"]]) for row in rows}


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            total += cpu_seconds(pid)
    return total


async def fresh_database() -> Storage:
    admin = await asyncpg.connect(SERVER)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    storage = Storage(URL, clock=SystemClock())
    await storage.upgrade()
    return storage


async def measure(workers: int, rows: int, chats: int, funnel: bool) -> Run:
    storage = await fresh_database()
    folder = Path(tempfile.mkdtemp(prefix="nudge-scale-"))
    api = start_fake_api(rows if funnel else chats)
    cluster = Cluster(folder, URL, api.base_url)
    if funnel:
        cluster.funnels = folder / "funnels"
        cluster.funnels.mkdir()
        write_funnel(cluster.funnels)
    try:
        for _ in range(workers):
            cluster.start_worker()
        await _until_ready(cluster, workers)
        # Seeded before the clock starts, invisible to the workers until committed.
        pids = [p.pid for p in cluster.workers]
        before = (_cpu(pids), _cpu([api.process.pid]), await postgres_cpu())
        if cluster.funnels is not None:
            seconds = await _run_steps(storage, cluster.funnels, rows)
        else:
            seconds = await _send_all(storage, rows, chats)
        after = (_cpu(pids), _cpu([api.process.pid]), await postgres_cpu())
        # One message per row: by text (distinct per outbox row) or by chat (one step each).
        delivered: Counter[Any] = await (api.messages_per_chat() if funnel else api.texts())
    finally:
        cluster.stop()
        api.stop()
        await storage.dispose()
    duplicates = sum(times - 1 for times in delivered.values())
    lost = rows - len(delivered)
    # A backend that ended during the run is missing from `after` (the pools keep theirs).
    database = sum(cpu - before[2].get(pid, 0.0) for pid, cpu in after[2].items())

    return Run(
        workers,
        rows,
        seconds,
        cpu_workers=after[0] - before[0],
        cpu_api=after[1] - before[1],
        cpu_postgres=database,
        duplicates=duplicates,
        lost=lost,
        load=_load(),
    )


async def _until_ready(cluster: Cluster, workers: int) -> None:
    """Poll the workers' logs: they are other processes, nothing to wait on but their output."""
    while cluster.logs().count("Nudge is running") < workers:  # noqa: ASYNC110
        await asyncio.sleep(0.2)


async def _send_all(storage: Storage, rows: int, chats: int) -> float:
    committed = await _seed(storage, rows, chats)
    while True:
        now = await counts(storage)
        if now[OutboxStatus.PENDING] + now[OutboxStatus.SENDING] == 0:
            return time.monotonic() - committed
        await asyncio.sleep(0.05)


async def _run_steps(storage: Storage, funnels: Path, contacts: int) -> float:
    await seed_funnel(storage, funnels, contacts)  # one transaction, every step due now
    committed = time.monotonic()
    while not await funnel_work_done(storage):  # noqa: ASYNC110 (other processes)
        await asyncio.sleep(0.05)
    return time.monotonic() - committed


async def _seed(storage: Storage, rows: int, chats: int) -> float:
    await seed_outbox(storage, rows, chats)  # one transaction: visible at once when committed
    return time.monotonic()


WHAT = ["outbox rows over their chats"]  # or, with --funnel, funnel steps


def report(runs: list[Run]) -> None:
    reference = runs[0]
    print(machine())
    print(f"{reference.rows} due {WHAT[0]}, rate limits off, PostgreSQL")
    print(
        "workers  seconds  rows/s  ratio  rows/worker-cpu-s  ratio"
        "  cpu-s: workers  fake API  postgres  load  dup  lost"
    )
    for run in runs:
        ratio = run.per_second / reference.per_second
        cpu_ratio = run.per_worker_cpu_second / reference.per_worker_cpu_second
        print(
            f"{run.workers:7d}  {run.seconds:7.2f}  {run.per_second:6.0f}  {ratio:5.2f}"
            f"  {run.per_worker_cpu_second:17.0f}  {cpu_ratio:5.2f}"
            f"  {run.cpu_workers:14.2f}  {run.cpu_api:8.2f}  {run.cpu_postgres:8.2f}"
            f"  {run.load:4.1f}  {run.duplicates:3d}  {run.lost:4d}"
        )
    print("(postgres: the backends serving the bench database)")
    summary(runs)


def summary(runs: list[Run]) -> None:
    """Medians per worker count: on a shared machine one run of each says little (measured:
    two 1-worker runs of one invocation 1.9x apart), so the runs are repeated interleaved."""
    by_count: dict[int, list[Run]] = {}
    for run in runs:
        by_count.setdefault(run.workers, []).append(run)
    reference = statistics.median(r.per_second for r in by_count[runs[0].workers])
    print("median of the runs per worker count:")
    for count, same in by_count.items():
        rate = statistics.median(r.per_second for r in same)
        print(
            f"  {count} worker(s): {rate:6.0f} rows/s, {rate / reference:4.2f}x ({len(same)} runs)"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=3, help="rounds over --workers")
    parser.add_argument(
        "--funnel",
        action="store_true",
        help="N due funnel steps (one contact each, a one-message funnel) instead of outbox rows",
    )
    args = parser.parse_args()
    if args.funnel:
        WHAT[0] = "funnel steps (one contact and one message each)"
    runs = [
        await measure(count, args.rows, args.chats, args.funnel)
        for _ in range(args.repeat)
        for count in args.workers
    ]
    report(runs)


if __name__ == "__main__":
    asyncio.run(main())
