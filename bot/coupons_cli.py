"""`nudge coupons load POOL FILE | count POOL`: fill the pools that funnels' `coupon` steps use."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from bot.config import Settings

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def add_coupons_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    coupons = commands.add_parser("coupons", help="coupon pools for funnels: load, count")
    sub = coupons.add_subparsers(dest="coupons_command", metavar="COUPONS_COMMAND", required=True)
    load = sub.add_parser("load", help="add codes (one per line; '-' reads stdin) to a pool")
    load.add_argument("pool")
    load.add_argument("file", help="a text file with one code per line, or - for stdin")
    count = sub.add_parser("count", help="how many codes of a pool are still free")
    count.add_argument("pool")


def run_coupons_command(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(coupons_command(args, settings.storage.url))


async def coupons_command(
    args: argparse.Namespace, url: str, *, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    from bot.storage import Storage

    out = out or sys.stdout
    codes: list[str] = []
    if args.coupons_command == "load":
        try:
            codes = read_codes(args.file, stdin or sys.stdin)
        except (OSError, ValueError) as exc:
            print(f"nothing loaded: {exc}", file=out)
            return 1
    async with Storage(url) as storage:
        if not await storage.is_up_to_date():
            print("the database is not up to date: run `nudge db upgrade` first", file=out)
            return 1
        async with storage.uow() as uow:
            added = await uow.coupons.load(args.pool, codes) if codes else 0
            free = await uow.coupons.remaining(args.pool)
            await uow.commit()
    if args.coupons_command == "load":
        print(f"{args.pool}: {added} new code(s), {len(codes) - added} already there", file=out)
    print(f"{args.pool}: {free} free code(s)", file=out)
    return 0


def read_codes(source: str, stdin: TextIO) -> list[str]:
    """Codes, one per line; blank lines and `#` comments skipped; a bad code is an error with
    its line number, and nothing is loaded."""
    text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    codes: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not _CODE.match(line):
            raise ValueError(
                f"{source}:{number}: {line[:40]!r} is not a code (letters, digits, - and _)"
            )
        codes.append(line)
    return list(dict.fromkeys(codes))
