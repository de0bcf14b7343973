"""What the console dashboard page costs, against the reports it shows.

The page (`GET /console/dashboard`, logged in as a supervisor, over real HTTP) runs the service,
funnels and drivers reports and the two trends, then draws the charts and renders the template.
The reference is the same five `ReportService` calls alone, through one unit of work as the page
makes them, in the same process, on the same database, taking turns with the page: the ratio is
what the page adds (HTTP, session check, chart geometry, HTML) on top of them.

    .venv/bin/python bench/dashboard.py                     # SQLite, the default world
    .venv/bin/python bench/dashboard.py --handoffs 20000 --postgres \\
        postgresql+asyncpg://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._dashboard_seed import DAYS, FUNNELS, NOW, PASSWORD, ZONE, seed
from bot.analytics import Bucket, ReportService
from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.handoff.policy import HandoffPolicy
from bot.handoff.service import HandoffService
from bot.rendering import Renderer
from bot.storage.uow import Storage
from bot.web.console import setup_console
from bot.web.console.dashboard import DRIVERS_SHOWN, WEEKLY_AFTER, lent

ROOT = Path(__file__).resolve().parents[1]


async def reports_alone(storage: Storage, clock: FakeClock, since: str) -> None:
    """The reference: the calls the page makes, through one unit of work as the page does
    (it lends the request's), nothing drawn and no HTTP."""
    async with storage.uow() as uow:
        service = ReportService(lent(uow), clock, ZONE, step_order=lambda: FUNNELS)
        period = service.period(since)
        bucket = Bucket.WEEK if period.end - period.start > WEEKLY_AFTER else Bucket.DAY
        await service.service(period)
        await service.funnels(period)
        await service.csat_trend(period, bucket)
        await service.first_response_trend(period, bucket)
        await service.drivers(period, DRIVERS_SHOWN)


async def start_console(storage: Storage, clock: FakeClock) -> tuple[web.AppRunner, str]:
    policy = HandoffPolicy()
    service = HandoffService(policy, Renderer(ROOT / "templates", "en"), Outbox({}), clock)
    app = web.Application()
    setup_console(
        app,
        uow_factory=storage.uow_factory,
        actions=service,
        clock=clock,
        secret_key="bench-secret-key",
        reports=lambda uows: ReportService(uows, clock, ZONE, step_order=lambda: FUNNELS),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/console"


async def log_in(http: aiohttp.ClientSession, console: str) -> None:
    async with http.get(console + "/login") as page:
        found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert found is not None
    form = {"key": "boss", "password": PASSWORD, "csrf": found.group(1)}
    async with http.post(console + "/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, answer.status


async def medians_ms(repeat: int, *runs: Callable[[], Awaitable[Any]]) -> list[float]:
    """Each run's median wall time; the runs take turns, so a busy moment of the shared
    machine weighs on all of them alike."""
    timings: list[list[float]] = [[] for _ in runs]
    for round_ in range(repeat + 1):
        for run, mine in zip(runs, timings, strict=True):
            start = time.perf_counter()
            await run()
            if round_:  # the first round warms caches, templates and query plans
                mine.append(time.perf_counter() - start)
    return [1000 * statistics.median(mine) for mine in timings]


async def measure(url: str, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    clock = FakeClock(NOW)
    figures: dict[str, tuple[float, float]] = {}
    async with Storage(url, clock=clock) as storage:
        await storage.upgrade()
        started = time.perf_counter()
        await seed(storage, args.handoffs, args.enrollments)
        print(f"  seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        runner, console = await start_console(storage, clock)
        jar = aiohttp.CookieJar(unsafe=True)
        try:
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                await log_in(http, console)

                async def page(since: str) -> None:
                    async with http.get(f"{console}/dashboard?since={since}") as answer:
                        assert answer.status == 200, await answer.text()
                        await answer.read()

                for since in ("7d", "30d", "90d"):
                    reference, measured = await medians_ms(
                        args.repeat,
                        partial(reports_alone, storage, clock, since),
                        partial(page, since),
                    )
                    figures[since] = (reference, measured)
        finally:
            await runner.cleanup()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handoffs", type=int, default=5000)
    parser.add_argument("--enrollments", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: measure there too")
    args = parser.parse_args()
    columns: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite", file=sys.stderr)
        columns["SQLite"] = await measure(f"sqlite+aiosqlite:///{folder}/bench.db", args)
    if args.postgres:
        print("PostgreSQL", file=sys.stderr)
        columns["PostgreSQL"] = await _on_postgres(args.postgres, args)
    _print(columns, args)


async def _on_postgres(server: str, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    name = f"nudge_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.make_url(server)
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        return await measure(admin.set(database=name).render_as_string(False), args)
    finally:
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


def _print(columns: dict[str, dict[str, tuple[float, float]]], args: argparse.Namespace) -> None:
    print(
        f"dashboard.py ({args.handoffs:,} hand-offs with surveys and 2 questions each, "
        f"{args.enrollments:,} enrollments in {len(FUNNELS)} funnels, over {DAYS} days; "
        f"median of {args.repeat})"
    )
    print(f"{'':32}" + "".join(f"{name:>22}" for name in columns))
    for since in ("7d", "30d", "90d"):
        for label, index in (("reports alone (reference)", 0), ("dashboard page", 1)):
            cells = []
            for figures in columns.values():
                reference, value = figures[since][0], figures[since][index]
                cells.append(f"{value:9.1f} ms {value / reference:5.2f}")
            print(f"{since + ' ' + label:32}" + "".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    asyncio.run(main())
