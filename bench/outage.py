"""PostgreSQL stopped for 30 seconds under a sending worker process, and started again.

A worker process (`nudge run --role worker`) sends N due outbox rows to the fake Bot API (its
own process, answers slowed so sends are in flight) on a PostgreSQL instance of this script's
own; once a tenth is sent, the instance is stopped (`pg_ctl stop -m fast`), kept down for the
outage, and started again. The reference is the same run never stopped, in the same script.

Printed: how every row ended, rows marked sent that the fake server never received (goal 0),
messages received twice (goal: only rows recorded unknown), whether the worker lived through
it, and the time from the restart to the last row settled beside the reference's whole run.

    .venv/bin/python bench/outage.py --outage 30 --rows 3000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import machine
from tests.scaleout.outage import OutageReport, run_outage
from tests.scaleout.own_postgres import missing_tools


def _describe(name: str, report: OutageReport) -> str:
    ended = Counter(status for status, _ in report.statuses.values())
    sent_rows = {t for t, (s, _) in report.statuses.items() if s == "sent"}
    unknown = {t for t, (s, _) in report.statuses.items() if s == "unknown"}
    false_sent = len(sent_rows - set(report.delivered))
    twice = len(report.duplicates)
    twice_not_unknown = len(report.duplicates - unknown)
    return (
        f"{name:<22} {dict(ended)}  in flight at stop {report.in_flight_at_stop}"
        f"  sent-never-received {false_sent}  received twice {twice}"
        f" (not unknown {twice_not_unknown})  worker alive {report.worker_alive}"
        f"  settle {report.settle_seconds:.1f} s  total {report.total_seconds:.1f} s"
    )


async def main(outage: float, rows: int, chats: int, slow: float) -> None:
    reason = missing_tools()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        reference = await run_outage(Path(folder), None, rows, chats, slow)
    with tempfile.TemporaryDirectory() as folder:
        report = await run_outage(Path(folder), outage, rows, chats, slow)
    print(f"{rows} rows over {chats} chats, answers slowed {slow} s, outage {outage:g} s")
    print(_describe("reference (no outage)", reference))
    print(_describe(f"outage {outage:g} s", report))
    extra = report.total_seconds - outage - reference.total_seconds
    ratio = (report.total_seconds - outage) / reference.total_seconds
    print(f"time lost beyond the outage: {extra:.1f} s; (total - outage) / reference = {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=30.0, help="seconds PostgreSQL is down")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--slow", type=float, default=0.1, help="seconds per fake answer")
    args = parser.parse_args()
    asyncio.run(main(args.outage, args.rows, args.chats, args.slow))
