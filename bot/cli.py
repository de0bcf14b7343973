"""The `nudge` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.agents_cli import add_agents_commands, run_agents_command
from bot.checks import check_project
from bot.config import ConfigError, Settings, load_settings
from bot.contacts_cli import add_contacts_commands, run_contacts_command
from bot.coupons_cli import add_coupons_commands, run_coupons_command
from bot.events_cli import add_events_commands, run_events_command
from bot.funnel_cli import add_simulate_command, run_simulate_command
from bot.kb_cli import add_kb_commands, run_kb_command
from bot.logging_setup import configure_logging
from bot.report_cli import add_report_command, run_report_command

if TYPE_CHECKING:
    from bot.process import Role

log = logging.getLogger("nudge")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nudge",
        description="Nudge: messenger chatbot and sales-funnel engine.",
    )
    parser.add_argument("--version", action="version", version=f"nudge {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: $NUDGE_CONFIG or ./config.yaml)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="start the bot: web chat, Telegram, delivery")
    run.add_argument(
        "--no-migrate", action="store_true", help="do not apply database migrations first"
    )
    run.add_argument(
        "--role",
        choices=["web", "worker", "all"],
        default="all",
        help="web: receive and store (webhook, web chat, events API); worker: process and send; "
        "all (default): both. Several processes share one PostgreSQL (docs/deploy.md)",
    )
    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help="apply all migrations (creates the database)")
    db_commands.add_parser("current", help="print the current migration revision")
    commands.add_parser(
        "check", help="validate config.yaml, templates and knowledge base; exit 1 on errors"
    )
    add_kb_commands(commands)
    add_agents_commands(commands)
    add_events_commands(commands)
    add_simulate_command(commands)
    add_coupons_commands(commands)
    add_report_command(commands)
    add_contacts_commands(commands)
    commands.add_parser(
        "fake-telegram", help="run a fake Telegram Bot API server (for demos and tests)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["fake-telegram"]:  # its own options (and --help) go straight to it
        from bot.fake_telegram.cli import main as fake_main

        return fake_main(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "check":
        return _check(args.config)
    settings = _load(args.config)
    if settings is None:
        return 1
    configure_logging(settings.logging.level, settings.logging.format)
    if args.command == "kb":
        return run_kb_command(args, settings)
    if args.command == "agents":
        return run_agents_command(args, settings)
    if args.command == "events":
        return run_events_command(args, settings)
    if args.command == "simulate":
        return run_simulate_command(args, settings)
    if args.command == "coupons":
        return run_coupons_command(args, settings)
    if args.command == "report":
        return run_report_command(args, settings)
    if args.command == "contacts":
        return run_contacts_command(args, settings)
    if args.command == "db":
        return asyncio.run(_db(settings.storage.url, args.db_command, parser))
    return asyncio.run(_run(settings, migrate=not args.no_migrate, role=args.role))


def _load(path: Path | None) -> Settings | None:
    try:
        return load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in the configuration", file=sys.stderr)
        return None


def _check(path: Path | None) -> int:
    problems = check_project(path)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found")
        return 1
    print("configuration and templates are valid")
    return 0


async def _db(url: str, command: str | None, parser: argparse.ArgumentParser) -> int:
    from bot.storage.migrate import current_revision, upgrade

    if command == "upgrade":
        await upgrade(url)
        print(f"database is at the latest revision: {await current_revision(url)}")
        return 0
    if command == "current":
        print(await current_revision(url) or "empty database: run `nudge db upgrade`")
        return 0
    parser.error("db needs a command: upgrade or current")
    return 2


async def _run(settings: Settings, *, migrate: bool, role: Role = "all") -> int:
    from bot.app import build_nudge

    app = build_nudge(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.start(migrate=migrate, role=role)
    worker = app.dispatcher.worker_id
    where = f"worker {worker}" if role == "worker" else f"Web chat: {app.base_url}/"
    print(f"Nudge is running ({role}). {where}  (Ctrl+C to stop)", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await app.stop()
    return 0
