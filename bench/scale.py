"""Throughput of 1, 2 and 4 worker processes (`nudge run --role worker`) on one PostgreSQL,
sending N due outbox rows to the fake Bot API (its own process) with the rate limits off.

The reference is the 1-worker run in the same script; the figure is the ratio of the others to
it (goal: 2 workers >= 1.7x). Each run gets a fresh database; the workers are started and
ready before the rows are committed in one transaction, and the clock runs from that commit
until no row is pending or being sent. Every run also checks that each row reached the fake
server exactly once. CPU seconds used during the run are printed per party (workers, the fake
Bot API, PostgreSQL's processes): on a 2-core machine they tell whether a second worker had a
core to run on at all. The script's own PostgreSQL work (seeding, polling, and an ANALYZE every
5 s standing in for autovacuum: see `analyze`) is printed apart, and so is what the rest of the
machine used meanwhile (other people's test suites). A second table splits the workers' outbox
claims (rows per claim, time from a claim to its outcomes stored and on to the next claim).

With `--worker-cpu 0.4` every worker process gets a budget of 0.4 of a core, each in a cgroup of
its own, as if each worker ran on a small machine of its own; PostgreSQL and the fake Bot API
stay uncapped (they stand for services on other hosts). On a box too small to give every party
a core, this measures whether the design scales rather than whether the box does. It needs root
and a writable cgroup cpu controller (v2 `cpu.max` or v1 `cpu.cfs_quota_us`).

    .venv/bin/python bench/scale.py --rows 20000 --workers 1 2 4
    .venv/bin/python bench/scale.py --rows 20000 --workers 1 2 4 --worker-cpu 0.4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._claims import NO_CLAIMS, Claims, read_claims
from bench._cpu_budget import NO_THROTTLING, CpuBudgets, NoCpuController, Throttling
from bench._postgres_probe import snapshot, usage
from bench._support import TICKS, cpu_seconds, machine
from bot.config.models import DeliverySettings
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
LEASE = timedelta(seconds=DeliverySettings().lease_seconds)  # the workers' (the default)


@dataclass
class Run:
    workers: int
    rows: int
    seconds: float
    cpu_workers: float
    cpu_api: float
    cpu_postgres: float  # the backends serving the workers
    cpu_polling: float  # the backends of this script: seeding the rows, polling for the end
    duplicates: int
    lost: int
    load: float  # the machine's 1-minute load average at the end of the run
    throttling: Throttling = NO_THROTTLING  # of the workers' groups, with --worker-cpu
    claims: Claims = NO_CLAIMS
    cpu_others: float = 0.0  # CPU-s of everything else on the machine meanwhile (other users)
    window: float = 1.0  # seconds over which cpu_others was counted (seeding included)
    connections: int = 0  # opened to the bench database during the run

    @property
    def cores(self) -> float:
        """Cores the workers, the fake Bot API and PostgreSQL kept busy together."""
        return (self.cpu_workers + self.cpu_api + self.cpu_postgres) / self.seconds

    @property
    def other_cores(self) -> float:
        return self.cpu_others / self.window

    @property
    def cores_per_worker(self) -> float:
        return self.cpu_workers / self.seconds / self.workers

    @property
    def per_worker_cpu_second(self) -> float:
        """Rows per CPU-second of the workers: what coordination costs, whatever the load."""
        return self.rows / self.cpu_workers

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (every core, every process), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            total += cpu_seconds(pid)
    return total


async def fresh_database(observer: set[int]) -> Storage:
    """A new bench database; the server pid of every connection this script's storage opens
    is added to `observer`."""
    admin = await asyncpg.connect(SERVER)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    storage = Storage(URL, clock=SystemClock())

    def remember(connection: Any, _record: Any) -> None:
        observer.add(connection.driver_connection.get_server_pid())

    event.listen(storage.engine.sync_engine, "connect", remember)
    await storage.upgrade()
    return storage


async def measure(
    workers: int, rows: int, chats: int, funnel: bool, budgets: CpuBudgets | None
) -> Run:
    observer: set[int] = set()
    storage = await fresh_database(observer)
    folder = Path(tempfile.mkdtemp(prefix="nudge-scale-"))
    api = start_fake_api(rows if funnel else chats)
    cluster = Cluster(folder, URL, api.base_url)
    if funnel:
        cluster.funnels = folder / "funnels"
        cluster.funnels.mkdir()
        write_funnel(cluster.funnels)
    throttling = NO_THROTTLING
    try:
        for _ in range(workers):
            worker = cluster.start_worker()
            if budgets is not None:  # at once: the worker's start-up already runs on its budget
                budgets.confine(worker.pid)
        await _until_ready(cluster, workers)
        # Seeded before the clock starts, invisible to the workers until committed.
        pids = [p.pid for p in cluster.workers]
        throttled_before = budgets.throttling() if budgets is not None else NO_THROTTLING
        before = (_cpu(pids), _cpu([api.process.pid]), await snapshot(SERVER, DATABASE))
        machine_before, own_before = machine_cpu(), cpu_seconds(os.getpid())
        window = time.monotonic()
        if cluster.funnels is not None:
            seconds = await _run_steps(storage, cluster.funnels, rows)
        else:
            seconds = await _send_all(storage, rows, chats)
        after = (_cpu(pids), _cpu([api.process.pid]), await snapshot(SERVER, DATABASE))
        machine_used = machine_cpu() - machine_before
        window = time.monotonic() - window
        own = cpu_seconds(os.getpid()) - own_before
        if budgets is not None:
            throttling = budgets.throttling() - throttled_before
        claims = await read_claims(storage, LEASE)
        # One message per row: by text (distinct per outbox row) or by chat (one step each).
        delivered: Counter[Any] = await (api.messages_per_chat() if funnel else api.texts())
    finally:
        cluster.stop()
        api.stop()
        if budgets is not None:
            budgets.release()
        await storage.dispose()
    duplicates = sum(times - 1 for times in delivered.values())
    lost = rows - len(delivered)
    database = usage(before[2], after[2])
    # This script's own backends commit the rows, poll for the end and analyze: not the
    # workers' load (they keep their connections: none of them is among the ended ones).
    polling = database.cpu_of(observer)
    ours = after[0] - before[0] + after[1] - before[1] + database.total + own

    return Run(
        workers,
        rows,
        seconds,
        cpu_workers=after[0] - before[0],
        cpu_api=after[1] - before[1],
        cpu_postgres=database.total - polling,
        cpu_polling=polling,
        duplicates=duplicates,
        lost=lost,
        load=_load(),
        throttling=throttling,
        claims=claims,
        connections=database.sessions,
        cpu_others=max(0.0, machine_used - ours),
        window=window,
    )


async def _until_ready(cluster: Cluster, workers: int) -> None:
    """Poll the workers' logs: they are other processes, nothing to wait on but their output."""
    while cluster.logs().count("Nudge is running") < workers:  # noqa: ASYNC110
        await asyncio.sleep(0.2)


async def _send_all(storage: Storage, rows: int, chats: int) -> float:
    committed = await _seed(storage, rows, chats)

    async def done() -> bool:
        now = await counts(storage)
        return now[OutboxStatus.PENDING] + now[OutboxStatus.SENDING] == 0

    return await _until(done, storage, committed)


async def _run_steps(storage: Storage, funnels: Path, contacts: int) -> float:
    await seed_funnel(storage, funnels, contacts)  # one transaction, every step due now
    return await _until(lambda: funnel_work_done(storage), storage, time.monotonic())


async def _until(done: Callable[[], Awaitable[bool]], storage: Storage, committed: float) -> float:
    """Seconds from `committed` until `done()`: polled, as the work is in other processes.
    The bench database is analyzed at once and then every ANALYZE_EVERY seconds (`analyze`)."""
    analyzed = time.monotonic()
    await analyze(storage)
    while not await done():
        if time.monotonic() - analyzed >= ANALYZE_EVERY:
            analyzed = time.monotonic()
            await analyze(storage)
        await asyncio.sleep(_poll_pause(committed))
    return time.monotonic() - committed


ANALYZE_EVERY = 5.0  # seconds


async def analyze(storage: Storage) -> None:
    """Fresh statistics for the bench database, as autovacuum keeps them on a normal server
    (this machine's runs with autovacuum off). Run by this script, inside the timed run: each
    takes tens of ms of PostgreSQL time, counted as the script's, not the workers'.

    Without it the workers' claims keep plans made for empty tables: they start before the
    rows exist and claim every tick, and after five runs PostgreSQL may keep a generic plan
    costed for an empty table until the table is analyzed. Seen: a bitmap scan and sort of
    every pending row per outbox claim (100-500 ms each instead of an index walk of the first
    `limit` rows), which made identical runs 2.3x apart; and in funnel runs, where the outbox
    fills during the run, a sequential scan of the whole outbox per claimed row (1 s per claim
    of 200 near the end). ANALYZE drops the cached plans of every session.
    """
    async with storage.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))


def _poll_pause(since: float) -> float:
    """0.05 s, or half a percent of the time so far if longer: each poll counts a table of up
    to N rows on the PostgreSQL the workers use, and a slow (capped) run polled every 0.05 s
    gives PostgreSQL work the workers then compete with; the end is still seen within 0.5 %."""
    return max(0.05, 0.005 * (time.monotonic() - since))


async def _seed(storage: Storage, rows: int, chats: int) -> float:
    await seed_outbox(storage, rows, chats)  # one transaction: visible at once when committed
    return time.monotonic()


WHAT = ["outbox rows over their chats"]  # or, with --funnel, funnel steps


async def header(rows: int, budgets: CpuBudgets | None) -> None:
    """Printed before the first run, so a long run shows at once what it measures."""
    admin = await asyncpg.connect(SERVER)
    try:
        version = await admin.fetchval("SHOW server_version")
        autovacuum = await admin.fetchval("SHOW autovacuum")
    finally:
        await admin.close()
    print(machine())
    print(
        f"{rows} due {WHAT[0]}, rate limits off, PostgreSQL {version} (autovacuum {autovacuum};"
        f" this script analyzes the bench database every {ANALYZE_EVERY:.0f} s)"
    )
    if budgets is None:
        print("worker CPU: uncapped (workers, PostgreSQL and the fake Bot API share the cores)")
    else:
        print(f"worker CPU cap: {budgets.describe()}; PostgreSQL and the fake Bot API uncapped")
    print("load average at the start: " + " ".join(_loads()), flush=True)


def _loads() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def report(runs: list[Run], capped: bool) -> None:
    reference = runs[0]
    print(
        "workers  seconds  rows/s  ratio  rows/worker-cpu-s  ratio"
        "  cpu-s: workers  fake API  postgres  cores  core/worker"
        + ("  throttled" if capped else "")
        + "  others  load  dup  lost"
    )
    for run in runs:
        ratio = run.per_second / reference.per_second
        cpu_ratio = run.per_worker_cpu_second / reference.per_worker_cpu_second
        throttled = f"  {run.throttling.share:8.0%}" if capped else ""
        print(
            f"{run.workers:7d}  {run.seconds:7.2f}  {run.per_second:6.0f}  {ratio:5.2f}"
            f"  {run.per_worker_cpu_second:17.0f}  {cpu_ratio:5.2f}"
            f"  {run.cpu_workers:14.2f}  {run.cpu_api:8.2f}  {run.cpu_postgres:8.2f}"
            f"  {run.cores:5.2f}  {run.cores_per_worker:11.2f}{throttled}"
            f"  {run.other_cores:6.2f}  {run.load:4.1f}  {run.duplicates:3d}  {run.lost:4d}"
        )
    print(
        "(postgres: the backends serving the workers, those that ended during the run included"
        " (from the server's reaped children: a quiet machine assumed), not this script's;"
        " cores: CPU-s of all three parties per second of the run; others: cores the rest of the"
        " machine used meanwhile (other people's tests, PostgreSQL's background writers)"
        + (
            "; throttled: of the 0.1 s periods a worker wanted CPU, those it hit its cap)"
            if capped
            else ")"
        )
    )
    print(
        "claims (a worker's rows with one lease end): workers  claims  rows/claim"
        "  ms per claim: to stored  to next claim  connections opened"
    )
    for run in runs:
        claims = run.claims
        print(
            f"{run.workers:51d}  {claims.count:6d}  {claims.rows_per_claim:10.1f}"
            f"  {claims.to_stored * 1000:23.0f}  {claims.to_next_claim * 1000:13.0f}"
            f"  {run.connections:18d}"
        )
    polling = sum(run.cpu_polling for run in runs)
    print(f"PostgreSQL CPU-s for this script's seeding and polling, all runs: {polling:.2f}")
    summary(runs)


def summary(runs: list[Run]) -> None:
    """Medians per worker count: on a shared machine one run of each says little (measured:
    two 1-worker runs of one invocation 1.9x apart), so the runs are repeated interleaved."""
    by_count: dict[int, list[Run]] = {}
    for run in runs:
        by_count.setdefault(run.workers, []).append(run)
    reference = statistics.median(r.per_second for r in by_count[runs[0].workers])
    for run in by_count[runs[0].workers]:
        parts = {"workers": run.cpu_workers, "fake API": run.cpu_api, "postgres": run.cpu_postgres}
        shares = ", ".join(f"{name} {cpu / run.seconds:.2f}" for name, cpu in parts.items())
        print(
            f"cores used by the {run.workers}-worker run: {run.cores:.2f} of {os.cpu_count()}"
            f" ({shares})"
        )
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
    parser.add_argument(
        "--worker-cpu",
        type=float,
        metavar="FRACTION",
        help="cap each worker process at this fraction of a core (e.g. 0.4), each in a cgroup "
        "of its own: one small machine per worker; PostgreSQL and the fake Bot API stay uncapped",
    )
    args = parser.parse_args()
    # SIGTERM ends the runs like Ctrl-C: the main task is cancelled, so the `finally` blocks
    # stop the workers and remove their cgroups. Not signal.signal(): an exception raised in
    # whatever callback is running (a database driver's) can leave a query waiting forever.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    if args.worker_cpu is not None and args.worker_cpu < 0.01:
        parser.error("--worker-cpu must be at least 0.01 (the kernel's smallest quota)")
    if args.funnel:
        WHAT[0] = "funnel steps (one contact and one message each)"
    with contextlib.ExitStack() as cleanup:
        budgets = None
        if args.worker_cpu is not None:
            try:
                budgets = cleanup.enter_context(CpuBudgets(args.worker_cpu))
            except NoCpuController as missing:
                sys.exit(f"scale.py: {missing}")
        await header(args.rows, budgets)
        runs = []
        for _ in range(args.repeat):
            for count in args.workers:
                runs.append(await measure(count, args.rows, args.chats, args.funnel, budgets))
        report(runs, capped=budgets is not None)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("scale.py: interrupted; workers stopped and their cgroups removed")
