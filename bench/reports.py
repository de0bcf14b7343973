"""Report times over 1,000,000 stored messages and 100,000 enrollments, SQLite and PostgreSQL.

Seeds half a year of a shop (bench/_reports_seed.py) into a fresh, migrated database, then times
every report of `nudge report` twice: with the report indexes of migrations 0011 and 0012 and, as
the reference, after dropping them (the same queries, the schema of before). Each time is the
median of 3 runs of `ReportService` (the queries and the Python that turns their rows into the
report). Goal: every report under 2 s with the indexes.

    python bench/reports.py [--messages 1000000] [--enrollments 100000] [--skip-postgres]
    python bench/reports.py --quick          # 100,000 messages: does it work?
    python bench/reports.py --only funnels   # the reports whose name holds "funnels"
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bench._reports_seed import Scale, TableRows, generate
from bench._support import machine
from bot.analytics import Bucket, GroupBy, Period, ReportService
from bot.domain.clock import FakeClock
from bot.storage.uow import Storage

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
GOAL_SECONDS = 2.0
# A report slower than this runs once (the references without their indexes take up to a minute);
# one near the goal gets its median, not the luck of one run on a shared machine.
SLOW_SECONDS = 10.0
RUNS = 3
_MIGRATION = importlib.import_module("bot.storage.migrations.versions.0011_report_indexes")
_STEP_LINK = importlib.import_module("bot.storage.migrations.versions.0012_outbox_funnel_step")
INDEXES = [name for name, _table, _columns in _MIGRATION.INDEXES] + [
    _MIGRATION.BUTTON_INDEX,
    _STEP_LINK.INDEX,
]

Report = Callable[[ReportService], Awaitable[Any]]


def _since(days: int) -> Period:
    from bot.analytics.period import zone_named

    return Period(NOW - timedelta(days=days), NOW, zone_named("Europe/Chisinau"))


M30, M180 = _since(30), _since(180)
REPORTS: dict[str, Report] = {
    "funnels 30d": lambda r: r.funnels(M30),
    "funnels 180d": lambda r: r.funnels(M180),
    "service 30d": lambda r: r.service(M30),
    "service 30d by agent": lambda r: r.service(M30, GroupBy.AGENT),
    "service 180d by channel": lambda r: r.service(M180, GroupBy.CHANNEL),
    "csat 30d by team": lambda r: r.scores(M30, GroupBy.TEAM),
    "drivers 30d": lambda r: r.drivers(M30),
    "retention 180d (quiet 30d)": lambda r: r.retention(M180, timedelta(days=30)),
    "CSAT trend 30d, days": lambda r: r.csat_trend(M30, Bucket.DAY),
    "first response trend 30d": lambda r: r.first_response_trend(M30, Bucket.DAY),
}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # as SQLAlchemy's UTCDateTime stores it on SQLite
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def seed_sqlite(path: Path, tables: list[TableRows]) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA foreign_keys=OFF")  # ids are consistent by construction
        for t in tables:
            marks = ", ".join("?" for _ in t.columns)
            sql = f"INSERT INTO {t.table} ({', '.join(t.columns)}) VALUES ({marks})"
            connection.executemany(sql, ([_sqlite_value(v) for v in row] for row in t.rows))
        connection.commit()
    finally:
        connection.close()


async def seed_postgres(dsn: str, tables: list[TableRows]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for t in tables:
            await connection.copy_records_to_table(t.table, records=t.rows, columns=t.columns)
        await connection.execute("ANALYZE")  # as autovacuum would after a load this size
    finally:
        await connection.close()


class Budget:
    """Stops a SQLite statement that runs past the deadline (SQLite's progress handler), so a
    reference query without its index cannot hold the benchmark for hours."""

    deadline = float("inf")

    @classmethod
    def install(cls) -> None:
        def late() -> int:
            return int(time.perf_counter() > cls.deadline)

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            if isinstance(dbapi_connection, sqlite3.Connection):
                dbapi_connection.set_progress_handler(late, 100_000)

        event.listen(Engine, "connect", on_connect)


Times = dict[str, float | None]


async def time_reports(storage: Storage, budget: float) -> Times:
    """The median of RUNS runs of each report (one run when it takes over SLOW_SECONDS); None when
    it ran past `budget` seconds and was stopped."""
    service = ReportService(storage.uow, FakeClock(NOW), zone="Europe/Chisinau")
    times: Times = {}
    for name, report in REPORTS.items():
        runs: list[float] = []
        while len(runs) < RUNS and (not runs or runs[0] < SLOW_SECONDS):
            began = time.perf_counter()
            Budget.deadline = began + budget
            try:
                await report(service)
            except DBAPIError as exc:  # SQLite: interrupted; PostgreSQL: statement timeout
                if "interrupted" not in str(exc) and "statement timeout" not in str(exc):
                    raise
                break
            finally:
                Budget.deadline = float("inf")
            runs.append(time.perf_counter() - began)
        times[name] = statistics.median(runs) if runs else None
        print(f"  {name}: {_seconds(times[name], budget)}", flush=True)
    return times


def _seconds(value: float | None, budget: float) -> str:
    return f"> {budget:.0f}" if value is None else f"{value:.3f}"


async def drop_report_indexes(storage: Storage, budget: float) -> None:
    async with storage.engine.begin() as conn:
        for name in INDEXES:
            await conn.execute(text(f"DROP INDEX {name}"))
        if storage.dialect == "postgresql":
            await conn.execute(text("ANALYZE"))
            # The server stops a statement past the budget (SQLite's is the progress handler).
            database = (await conn.execute(text("SELECT current_database()"))).scalar_one()
            timeout = f"{int(budget * 1000)}ms"
            await conn.execute(
                text(f"ALTER DATABASE \"{database}\" SET statement_timeout = '{timeout}'")
            )
    await storage.engine.dispose()  # new connections take the setting


async def bench(
    url: str, seed: Callable[[list[TableRows]], Awaitable[None]], scale: Scale, budget: float
) -> tuple[float, Times, Times]:
    storage = Storage(url, clock=FakeClock(NOW))
    try:
        await storage.upgrade()
        began = time.perf_counter()
        tables = list(generate(scale, NOW))
        await seed(tables)
        seeded = time.perf_counter() - began
        print(f"  seeded in {seeded:.1f} s; with the report indexes:", flush=True)
        indexed = await time_reports(storage, budget)
        await drop_report_indexes(storage, budget)
        print("  without them:", flush=True)
        bare = await time_reports(storage, budget)
        return seeded, indexed, bare
    finally:
        await storage.dispose()


def print_table(title: str, budget: float, seeded: float, indexed: Times, bare: Times) -> None:
    print(f"\n{title} (seeded in {seeded:.1f} s)")
    print(f"{'report':32} {'indexed s':>10} {'no index s':>11} {'ratio':>7}  goal")
    for name in REPORTS:
        fast, slow = indexed[name], bare[name]
        ok = "ok" if fast is not None and fast < GOAL_SECONDS else "OVER 2 s"
        if fast is None:
            ratio = "?"
        elif slow is None:
            ratio = f"> {budget / fast:.0f}"
        else:
            ratio = f"{slow / fast:.1f}"
        shown = f"{_seconds(fast, budget):>10} {_seconds(slow, budget):>11} {ratio:>7}"
        print(f"{name:32} {shown}  {ok}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--quick", action="store_true", help="100,000 messages, 10,000 enrollments")
    parser.add_argument("--budget", type=float, default=60.0, help="stop a reference query after")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--only", help="time only the reports whose name contains this")
    args = parser.parse_args()
    if args.only:
        for name in [name for name in REPORTS if args.only not in name]:
            del REPORTS[name]
    Budget.install()
    scale = Scale(100_000, 10_000) if args.quick else Scale(args.messages, args.enrollments)
    print(machine())
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    print(f"{scale.messages:,} messages, {scale.conversations:,} conversations, "
          f"{scale.contacts:,} contacts, {scale.enrollments:,} enrollments")  # fmt: skip
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reports.db"

        async def sqlite_seed(tables: list[TableRows]) -> None:
            seed_sqlite(path, tables)

        print("SQLite", flush=True)
        result = await bench(f"sqlite+aiosqlite:///{path}", sqlite_seed, scale, args.budget)
        figures["sqlite"] = result
    if not args.skip_postgres:
        print("PostgreSQL", flush=True)
        name = f"nudge_bench_reports_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(f"{POSTGRES}/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            dsn = f"{POSTGRES}/{name}"

            async def pg_seed(tables: list[TableRows]) -> None:
                await seed_postgres(dsn, tables)

            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
            figures["postgresql"] = await bench(url, pg_seed, scale, args.budget)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    for title, key in (("SQLite", "sqlite"), ("PostgreSQL", "postgresql")):
        if key in figures:
            print_table(title, args.budget, *figures[key])
    print(f"\n(ratio: the time without the report indexes / with them; each time is the "
          f"median of {RUNS} runs, or one run when over {SLOW_SECONDS:.0f} s; "
          f"'> {args.budget:.0f}': stopped after that long; periods end "
          f"{NOW:%Y-%m-%d %H:%M} UTC, days in Europe/Chisinau)")  # fmt: skip
    print("load average {:.2f} {:.2f} {:.2f} at the end".format(*os.getloadavg()))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
