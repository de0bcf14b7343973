"""Funnels at scale: Nudge's enrollment rows against the naive design, one APScheduler 3 job per
contact in its SQLAlchemy job store, side by side in one run on the same machine.

1. Time to enroll N contacts (created beforehand, not timed): `FunnelRunner.enroll_many`, the
   production path of a campaign or a scan's batch (already inside? re-entry policy, then the
   enrollments and their "entered" log lines; one transaction per 5,000) against
   `add_job(..., trigger="date")` per contact on a running `AsyncIOScheduler`.
2. The longest event-loop stall while N steps fall due at once: Nudge's `FunnelRunner.tick()`
   until nothing is claimed (each step renders a template and stores an outbox row), against
   the scheduler resuming with N date jobs due (each job renders the same template: less work
   than Nudge's step, so the naive figures are a lower bound).
3. Resident memory: RSS before and after enrolling, and the process's peak.

Nudge's process is set up as `Nudge.start` sets up the app: SQLite's WAL checkpoints run from a
pump in a thread, not inside commits (`bot/storage/checkpoints.py`), and the start-up objects are
frozen out of the garbage collector's passes (`bot/heap.py`); the longest GC pass of each phase
is reported. `--no-freeze` and `--no-deferred-checkpoints` leave either out (a reference run).

Each design runs in its own process (clean memory figures). The naive design may run on fewer
contacts (`--naive-contacts`); its times are then extrapolated linearly, and the output says so.

    python bench/funnels.py [--contacts 100000] [--naive-contacts 10000] [--skip-postgres]
    python bench/funnels.py --quick          # 5,000 contacts: does it work?
    python bench/funnels.py --profile out    # cProfile of Nudge's due phase to out.<db>.txt
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import ROOT, StallMeter, machine, peak_rss_mb, postgres_database, rss_mb
from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.model import Channel
from bot.funnel.db_ports import FunnelRules
from bot.funnel.library import FunnelLibrary
from bot.funnel.model import Funnel
from bot.funnel.runner import FunnelRunner
from bot.heap import freeze_startup_objects
from bot.rendering import Renderer
from bot.scheduling.pump import Pump
from bot.scheduling.scheduler import build_scheduler
from bot.storage.checkpoints import CHECKPOINT_SECONDS
from bot.storage.tables import channel_identities, contacts
from bot.storage.uow import Storage

CHUNK = 5_000  # enrollments per transaction: the loop is never held for long
TEMPLATE = "funnel_welcome_hello"
FUNNEL = f"""
id: bench
trigger: {{event: bench_started}}
steps:
  - id: hello
    send: {TEMPLATE}
"""
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
NOTE = (
    "(Nudge: `FunnelRunner.enroll_many`, {chunk:,} per transaction; runner "
    "batch_size {batch}; 'tick ms': the median / longest `tick()`. Stall: the longest gap between "
    "wake-ups of a task sleeping 5 ms. RSS: before and after enrolling; peak: the process's "
    "largest (memory is not extrapolated). The naive stall grows with the jobs: the "
    "scheduler loads and removes every due job in one callback.)"
)


# -- Nudge ---------------------------------------------------------------------------------------


async def add_contacts(storage: Storage, count: int) -> list[int]:
    """`count` contacts with a Telegram identity each, in bulk (setup, not timed), a slice at a
    time so the setup leaves no peak in the memory figures."""
    async with storage.engine.begin() as conn:
        for start in range(1, count + 1, 10_000):
            ids = range(start, min(start + 10_000, count + 1))
            people = [
                {"id": i, "display_name": f"Customer {i}", "language": "en", "opted_out": False,
                 "blocked": False, "attributes": {}, "created_at": START, "updated_at": START}
                for i in ids
            ]  # fmt: skip
            chats = [
                {"contact_id": i, "channel": Channel.TELEGRAM.value, "external_id": str(10**6 + i),
                 "address": str(10**6 + i), "blocked": False}
                for i in ids
            ]  # fmt: skip
            await conn.execute(contacts.insert(), people)
            await conn.execute(channel_identities.insert(), chats)
    return list(range(1, count + 1))


async def let_others_run() -> None:
    """Yield until whatever became ready while we held the loop has run. One `sleep(0)` is not
    enough: a task woken by a timer or a socket needs two more loop iterations (the callback
    that completes its future, then its own step), and ours would be first in line again."""
    for _ in range(3):
        await asyncio.sleep(0)


async def enroll_bulk(
    storage: Storage, runner: FunnelRunner, funnel: Funnel, ids: list[int], now: datetime, size: int
) -> None:
    """`FunnelRunner.enroll_many`, `size` contacts per transaction, as a campaign does."""
    for start in range(0, len(ids), size):
        async with storage.uow() as uow:
            entries: list[tuple[int, dict[str, Any]]] = [(c, {}) for c in ids[start : start + size]]
            entered = await runner.enroll_many(uow, funnel, entries, now)
            await uow.commit()
        assert len(entered) == len(entries), (len(entered), len(entries))
        await let_others_run()


class HoldMeter(StallMeter):
    """`StallMeter` that also takes the loop thread's CPU time over each gap. On a shared
    machine a gap may be the OS running other processes; the CPU time our thread used in it is
    what held the loop ("cpu ms")."""

    def __init__(self) -> None:
        super().__init__()
        self.longest_cpu = 0.0

    async def __aenter__(self) -> HoldMeter:
        await super().__aenter__()
        return self

    async def _run(self) -> None:
        self._last, cpu = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(self.interval)
            now, now_cpu = time.perf_counter(), time.thread_time()
            self.longest = max(self.longest, now - self._last)
            self.longest_cpu = max(self.longest_cpu, now_cpu - cpu)
            self._last, cpu = now, now_cpu


class GcMeter:
    """The longest garbage-collector pass while open, in seconds (`gc.callbacks`)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0

    def __enter__(self) -> GcMeter:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)


def checkpoint_off_the_loop(storage: Storage) -> Any:
    """As `Nudge.start` does on SQLite: a pump, woken every second, checkpoints in a thread;
    the scheduler to shut down afterwards (None on PostgreSQL)."""
    checkpointer = storage.defer_wal_checkpoints()
    if checkpointer is None:
        return None

    async def checkpoint() -> bool:
        await checkpointer.checkpoint()
        return False

    pump = Pump("wal-checkpoints", checkpoint)
    pump.start()
    scheduler = build_scheduler([(pump, CHECKPOINT_SECONDS)])
    scheduler.start()
    return scheduler


async def run_due(runner: FunnelRunner, profile: str | None) -> tuple[int, float, float]:
    """Drain the due steps through the app's own loop (a `Pump` calling `tick` back to back
    while batches come full, as `bot/app.py` does); the steps saved, the median and longest
    tick in ms."""
    profiler = cProfile.Profile() if profile else None
    steps, ticks = 0, []

    async def work() -> bool:
        nonlocal steps
        if profiler:
            profiler.enable()
        t0 = time.perf_counter()
        report = await runner.tick()
        ticks.append(time.perf_counter() - t0)
        if profiler:
            profiler.disable()
        steps += report.saved
        return report.claimed >= runner.batch_size

    pump = Pump("funnels", work)
    pump.start()
    await pump.drain()
    await pump.stop()
    if profiler and profile:
        write_profile(profiler, profile)
    return steps, statistics.median(ticks) * 1000, max(ticks) * 1000


def write_profile(profiler: cProfile.Profile, path: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(30)
    Path(path).write_text(out.getvalue())


async def nudge(spec: dict[str, Any]) -> dict[str, Any]:
    folder = Path(spec["tmp"]) / "funnels"
    folder.mkdir(exist_ok=True)
    (folder / "bench.yaml").write_text(FUNNEL)
    clock = FakeClock(START)
    storage = Storage(spec["url"], clock=clock)
    await storage.upgrade()
    ids = await add_contacts(storage, spec["contacts"])
    renderer = Renderer(ROOT / "templates", "en")
    library = FunnelLibrary(folder, renderer)
    library.refresh()
    funnel = library.current().get("bench")
    assert funnel is not None, library.current().problems
    runner = FunnelRunner(
        storage.uow, library.current, renderer, Outbox({Channel.TELEGRAM: 4096}),
        FunnelRules("UTC", "en", None), clock, batch_size=spec["batch_size"],
    )  # fmt: skip
    scheduler = checkpoint_off_the_loop(storage) if spec.get("defer_checkpoints", True) else None
    if spec.get("freeze", True):
        freeze_startup_objects()  # what `Nudge.start` does once everything is built
    out: dict[str, Any] = {"contacts": len(ids), "rss_before": rss_mb()}
    async with HoldMeter() as meter:
        with GcMeter() as gc_meter:
            t0 = time.perf_counter()
            await enroll_bulk(storage, runner, funnel, ids, clock.now(), spec["chunk"])
            out["enroll_s"] = time.perf_counter() - t0
    out["enroll_stall"], out["rss_after"] = meter.longest, rss_mb()
    out["enroll_gc"], out["enroll_cpu"] = gc_meter.longest, meter.longest_cpu
    async with storage.uow() as uow:
        assert await uow.enrollments.count_open() == len(ids)
    clock.advance(timedelta(minutes=1))
    async with HoldMeter() as meter:
        with GcMeter() as gc_meter:
            t0 = time.perf_counter()
            out["steps"], out["batch_ms"], out["batch_max_ms"] = await run_due(
                runner, spec.get("profile")
            )
            out["due_s"] = time.perf_counter() - t0
    out["due_stall"], out["due_gc"] = meter.longest, gc_meter.longest
    out["due_cpu"] = meter.longest_cpu
    async with storage.uow() as uow:
        queued = (await uow.outbox.count_by_status())["pending"]  # type: ignore[index]
    assert queued == len(ids) == out["steps"], (queued, out["steps"])
    out["rss_peak"] = peak_rss_mb()
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    await storage.dispose()
    return out


# -- the naive design: one APScheduler job per contact --------------------------------------------

_done: dict[str, Any] = {"count": 0, "target": 0, "event": None, "renderer": None}


async def naive_step(contact_id: int) -> None:
    """What a per-contact job would at least do: render its message."""
    _done["renderer"].render(TEMPLATE, "en", {"name": f"Customer {contact_id}"})
    _done["count"] += 1
    if _done["count"] >= _done["target"]:
        _done["event"].set()


def naive_scheduler(path: Path, tuned: bool) -> Any:
    """APScheduler with its SQLAlchemy job store on SQLite: as configured out of the box
    (rollback journal, synchronous=FULL: an fsync per job), or `tuned` like Nudge's file."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from sqlalchemy import create_engine, event

    from bot.storage.engine import set_sqlite_pragmas

    engine = create_engine(f"sqlite:///{path}")
    if tuned:
        event.listen(engine, "connect", set_sqlite_pragmas)  # WAL, synchronous=NORMAL
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        job_defaults={"misfire_grace_time": None, "coalesce": False},
        timezone=UTC,
    )


async def add_jobs(scheduler: Any, ids: list[int], run_date: datetime, chunk: int) -> None:
    for index, contact in enumerate(ids, 1):
        scheduler.add_job(naive_step, "date", run_date=run_date, id=f"c{contact}", args=[contact])
        if index % chunk == 0:
            await let_others_run()  # as Nudge's chunks do; the queued wake-ups run here
    await let_others_run()  # a running scheduler queued one wake-up per add_job


async def naive(spec: dict[str, Any]) -> dict[str, Any]:
    ids = list(range(1, spec["contacts"] + 1))
    _done.update(
        target=len(ids), event=asyncio.Event(), renderer=Renderer(ROOT / "templates", "en")
    )
    scheduler = naive_scheduler(Path(spec["tmp"]) / "jobs.db", spec["tuned"])
    scheduler.start()
    out: dict[str, Any] = {"contacts": len(ids), "rss_before": rss_mb()}
    async with StallMeter() as meter:
        t0 = time.perf_counter()
        await add_jobs(scheduler, ids, datetime.now(UTC) + timedelta(days=1), spec["chunk"])
        out["enroll_s"] = time.perf_counter() - t0
    out["enroll_stall"], out["rss_after"] = meter.longest, rss_mb()
    scheduler.pause()  # now the same number of jobs, all due: added paused, then resumed
    scheduler.remove_all_jobs()
    await add_jobs(scheduler, ids, datetime.now(UTC), spec["chunk"])
    async with StallMeter() as meter:
        t0 = time.perf_counter()
        scheduler.resume()
        await asyncio.wait_for(_done["event"].wait(), timeout=3600)
        out["due_s"] = time.perf_counter() - t0
    out["due_stall"], out["steps"] = meter.longest, _done["count"]
    out["rss_peak"] = peak_rss_mb()
    scheduler.shutdown(wait=False)
    return out


# -- the run: one process per design and database --------------------------------------------------


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one design in a fresh process; its figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{spec['design']} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def enroll_row(label: str, r: dict[str, Any], scale: float = 1.0) -> str:
    count, seconds = r["contacts"] * scale, r["enroll_s"] * scale
    stall = "-" if scale != 1 else f"{r['enroll_stall'] * 1000:.0f}"
    memory = ("-", "-") if scale != 1 else (f"{r['rss_before']:.0f}", f"{r['rss_after']:.0f}")
    return (
        f"{label:<36}{count:>9,.0f}{seconds:>10.2f}{count / seconds:>11,.0f}{stall:>10}"
        f"{memory[0]:>12}{memory[1]:>8}"
    )


def due_row(label: str, r: dict[str, Any], scale: float = 1.0) -> str:
    count, seconds = r["steps"] * scale, r["due_s"] * scale
    batch = f"{r['batch_ms']:.0f}/{r['batch_max_ms']:.0f}" if "batch_ms" in r else "-"
    peak = "-" if scale != 1 else f"{r['rss_peak']:.0f}"
    return (
        f"{label:<36}{count:>9,.0f}{seconds:>10.2f}{count / seconds:>11,.0f}"
        f"{r['due_stall'] * 1000 * scale:>10,.0f}{batch:>12}{peak:>8}"
    )


NAIVE = {"naive": "naive, APScheduler defaults", "naive_tuned": "naive, WAL + sync=NORMAL"}


def report(n: int, m: int, args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> None:
    scale = n / m
    ours = [(f"nudge ({db})", results[db]) for db in ("sqlite", "postgresql") if db in results]
    theirs = [(label, results[key]) for key, label in NAIVE.items()]
    print(f"\nfunnels.py: {n:,} contacts, naive design on {m:,}\n{machine()}")
    tables = (
        ("1. enroll", "stall ms", "RSS MB", "after", enroll_row),
        ("2. all due at once", "stall ms", "tick ms", "peak MB", due_row),
    )
    for title, *heads, make_row in tables:
        print(f"\n{title:<36}{'count':>9}{'s':>10}{'per s':>11}{heads[0]:>10}"
              f"{heads[1]:>12}{heads[2]:>8}")  # fmt: skip
        for label, r in ours + theirs:
            print(make_row(label, r))
        for label, r in theirs if scale != 1 else ():
            print(make_row(f"  {label}, x{scale:g}", r, scale))
    sqlite = results["sqlite"]
    print()
    for label, r in ours:
        print(
            f"{label}: the loop was held for at most {r['enroll_cpu'] * 1000:.0f} ms of its "
            f"thread's CPU time while enrolling, {r['due_cpu'] * 1000:.0f} ms while due (a "
            "longer stall is the machine running other processes)"
        )
        print(
            f"{label}: longest garbage-collector pass {r['enroll_gc'] * 1000:.0f} ms while "
            f"enrolling, {r['due_gc'] * 1000:.0f} ms while due (start-up objects "
            f"{'left in' if args.no_freeze else 'frozen out of'} its passes)"
        )
    where = "inside commits" if args.no_deferred_checkpoints else "from a pump in a thread"
    print(f"SQLite's WAL checkpoints ran {where}")
    for label, r in theirs:
        print(
            f"{label} / nudge (sqlite): enroll {r['enroll_s'] * scale / sqlite['enroll_s']:.0f}x "
            f"slower, stall while due {r['due_stall'] * scale / sqlite['due_stall']:.0f}x longer"
        )
    print("goals: enroll <= 5 s on SQLite and >= 50x faster than naive; stall < 100 ms")
    extrapolated = (
        f" naive x{scale:g}: extrapolated linearly from {m:,} jobs." if scale != 1 else ""
    )
    note = NOTE.format(chunk=args.chunk, batch=args.batch_size) + extrapolated
    print(textwrap.fill(note, 100))


def run_all(args: argparse.Namespace, n: int, m: int) -> dict[str, dict[str, Any]]:
    """Each design and database in its own process, one after the other."""
    base = {
        "contacts": n, "batch_size": args.batch_size, "chunk": args.chunk, "design": "nudge",
        "freeze": not args.no_freeze, "defer_checkpoints": not args.no_deferred_checkpoints,
    }  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        profile = {"profile": f"{args.profile}.sqlite.txt"} if args.profile else {}
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'nudge.db'}"
        results["sqlite"] = child({**base, "tmp": tmp, "url": url, **profile})
    for name, tuned in (("naive", False), ("naive_tuned", True)):
        with tempfile.TemporaryDirectory() as tmp:
            spec = {**base, "tmp": tmp, "contacts": m, "design": "naive", "tuned": tuned}
            results[name] = child(spec)
    if args.skip_postgres:
        return results
    with postgres_database() as pg, tempfile.TemporaryDirectory() as tmp:
        if pg is not None:
            profile = {"profile": f"{args.profile}.postgresql.txt"} if args.profile else {}
            results["postgresql"] = child({**base, "tmp": tmp, "url": pg, **profile})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--naive-contacts", type=int, default=10_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--quick", action="store_true", help="5,000 contacts, 2,000 naive")
    parser.add_argument("--profile", help="write cProfile stats of Nudge's due phase to PROFILE.*")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="enrollments per transaction")
    parser.add_argument("--batch-size", type=int, default=100, help="the runner's (config: 100)")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave start-up objects in the GC's passes"
    )
    parser.add_argument(
        "--no-deferred-checkpoints", action="store_true", help="SQLite checkpoints in commits"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        design = nudge if spec["design"] == "nudge" else naive
        print(json.dumps(asyncio.run(design(spec))))
        return
    n, m = (
        (5_000, 2_000) if args.quick else (args.contacts, min(args.naive_contacts, args.contacts))
    )
    report(n, m, args, run_all(args, n, m))


if __name__ == "__main__":
    main()
