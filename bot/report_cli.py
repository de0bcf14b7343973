"""`nudge report funnels|service|csat|drivers|retention`: the reports of `docs/reports.md`.

Tables for the terminal (rich), CSV and JSON for spreadsheets and scripts. The period is
`--since 30d` or `--from`/`--to` local dates in `--zone` (default: the config's `funnels.timezone`,
the zone of contacts without one).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.table import Table

from bot.analytics import GroupBy, PeriodError, ReportService
from bot.analytics.export import Cell, Report, Section, sections, table_sections, to_data
from bot.domain.clock import Clock, SystemClock
from bot.funnel.durations import DurationError, parse_duration

if TYPE_CHECKING:
    from bot.config import Settings

KINDS = ("funnels", "service", "csat", "drivers", "retention")
GROUPED = ("service", "csat")
TITLES = {
    "FunnelsReport": "Funnels",
    "ServiceReport": "Service",
    "ScoresReport": "CSAT and NPS",
    "DriversReport": "Top contact drivers",
    "RetentionReport": "Retention",
}
WIDE = 8  # more columns than this are shown turned (one column per group)
EXAMPLES = """examples:
  nudge report funnels --since 30d
  nudge report service --by agent --from 2026-11-01 --to 2026-11-30
  nudge report csat --by team --format csv > csat.csv
  nudge report retention --since 180d --quiet-for 60d --format json"""


def add_report_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="reports: funnels, service, csat, drivers, retention",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("kind", choices=KINDS, help="which report")
    report.add_argument("--since", help="a period back from now, like 30d, 12w or 24h")
    report.add_argument("--from", dest="first", metavar="DATE", help="first day, 2026-11-01")
    report.add_argument("--to", dest="last", metavar="DATE", help="last day (included)")
    report.add_argument("--by", choices=[g.value for g in GroupBy], help="group (service, csat)")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.add_argument("--zone", help="time zone of the dates and days (default: config's)")
    report.add_argument("--quiet-for", default="30d", help="retention: silence that counts")
    report.add_argument("--limit", type=int, default=10, help="drivers: rows of each kind")


def run_report_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.funnel.catalog import load_funnels

    def step_order() -> dict[str, list[str]]:
        catalog = load_funnels(Path(settings.funnels.folder), None)
        return {funnel.id: [step.id for step in funnel.steps] for funnel in catalog}

    zone = args.zone or settings.funnels.timezone
    return asyncio.run(report_command(args, settings.storage.url, zone, step_order=step_order))


async def report_command(
    args: argparse.Namespace,
    url: str,
    zone: str,
    *,
    clock: Clock | None = None,
    step_order: Callable[[], Mapping[str, Sequence[str]]] | None = None,
    out: TextIO | None = None,
) -> int:
    """Run one `nudge report` against the database at `url`; the exit code."""
    from bot.storage import Storage

    out = out or sys.stdout
    problem = _check_options(args)
    if problem is not None:
        print(f"nudge report: {problem}", file=sys.stderr)
        return 2
    async with Storage(url) as storage:
        if not await storage.is_up_to_date():
            print("the database is not up to date: run `nudge db upgrade` first", file=sys.stderr)
            return 1
        try:
            service = ReportService(storage.uow, clock or SystemClock(), zone, step_order)
            report = await _report(service, args)
        except PeriodError as exc:
            print(f"nudge report: {exc}", file=sys.stderr)
            return 2
    write(report, args.format, out)
    return 0


def _check_options(args: argparse.Namespace) -> str | None:
    if args.by is not None and args.kind not in GROUPED:
        return f"--by applies to {' and '.join(GROUPED)}, not to {args.kind}"
    if args.limit < 1:
        return "--limit must be 1 or more"
    try:
        parse_duration(args.quiet_for)
    except DurationError as exc:
        return f"--quiet-for: {exc}"
    return None


async def _report(service: ReportService, args: argparse.Namespace) -> Report:
    period = service.period(args.since, args.first, args.last)
    by = GroupBy(args.by) if args.by else None
    if args.kind == "funnels":
        return await service.funnels(period)
    if args.kind == "service":
        return await service.service(period, by)
    if args.kind == "csat":
        return await service.scores(period, by)
    if args.kind == "drivers":
        return await service.drivers(period, args.limit)
    quiet_for: timedelta = parse_duration(args.quiet_for)
    return await service.retention(period, quiet_for)


def write(report: Report, form: str, out: TextIO) -> None:
    if form == "json":
        json.dump(to_data(report), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif form == "csv":
        _write_csv(sections(report)[0], out)
    else:
        _write_tables(report, out)


def _write_csv(section: Section, out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(section.columns)
    for row in section.rows:
        writer.writerow(["" if cell is None else cell for cell in row])


def _write_tables(report: Report, out: TextIO) -> None:
    console = Console(file=out, width=max(100, Console().width), highlight=False)
    console.print(f"[bold]{TITLES[type(report).__name__]}[/] {report.period.label}")
    if report.empty:
        console.print("Nothing happened in this period: no rows to report.")
        return
    for section in table_sections(report):
        console.print(_table(section))


def _table(section: Section) -> Table:
    """A rich table; a wide one (many metrics) is turned: metrics down, groups across."""
    names = [column.removesuffix(" s") for column in section.columns]  # durations say "2m 30s"
    numeric = [
        all(isinstance(row[i], int | float) for row in section.rows if row[i] is not None)
        for i in range(len(names))
    ]
    cells = [
        [_shown(column, cell) for column, cell in zip(section.columns, row, strict=True)]
        for row in section.rows
    ]
    if len(names) > WIDE:
        numeric = [False] + [True] * len(cells)
        names, cells = (
            ["", *(row[0] for row in cells)],
            [[name, *(row[index] for row in cells)] for index, name in enumerate(names) if index],
        )
    table = Table(title=section.title, title_justify="left")
    for name, right in zip(names, numeric, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in cells:
        table.add_row(*row)
    return table


def _shown(column: str, cell: Cell) -> str:
    if cell is None:
        return "–"
    if column.endswith(" s") and isinstance(cell, int | float):
        return _duration(float(cell))
    if isinstance(cell, float):
        return f"{cell:.1f}" if not column.startswith("p-value") else f"{cell:.4f}"
    return str(cell)


def _duration(seconds: float) -> str:
    """`75` -> `1m 15s`, `5400` -> `1h 30m`, `90000` -> `1d 1h`."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{value}{unit}" for value, unit in parts if value]
    return " ".join(shown[:2]) or "0s"
