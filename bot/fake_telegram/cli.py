"""``python -m bot.fake_telegram`` / ``nudge fake-telegram``: serve a fake Bot API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from bot.fake_telegram.server import FakeTelegramServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fake-telegram",
        description="Serve a fake Telegram Bot API (plus the /_fake/ control API).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port, 0 for a free one (8081)")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN[=USERNAME]",
        help="register a bot token (repeatable), optionally with its username",
    )
    parser.add_argument(
        "--webhook-retry",
        type=float,
        default=0.05,
        metavar="SECONDS",
        help="first delay before retrying a failed webhook delivery (0.05)",
    )
    return parser


async def serve(args: argparse.Namespace, ready: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or cancellation)."""
    server = FakeTelegramServer(args.host, args.port, webhook_retry_base=args.webhook_retry)
    for spec in args.token:
        token, _, username = spec.partition("=")
        server.add_bot(token, username or None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with server:
        print(server.base_url, flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"fake-telegram: {exc}", file=sys.stderr)
        return 1
    return 0
