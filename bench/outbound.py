"""Outbound throughput: messages per second the dispatcher sends to the fake Bot API.

1. Limits off: N stored outbox rows to N different chats, drained by one dispatcher, side by side
   with a bare aiogram loop sending the same number of messages with the same concurrency to
   the same fake server (the reference). Goal: at least 1,000 messages/s from one process.
2. Default limits on (25/s global, 1/s per chat): a burst to a few busy chats and many quiet
   ones; the fake server's record must show no window over the limits.

    python bench/outbound.py [--messages 5000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram import Bot

from bench._fake_server import FIRST_USER_ID
from bench._support import (
    fake_stats,
    free_port,
    machine,
    start_fake_server,
    stop,
    wait_http,
)
from bot.channels.telegram.client import build_bot
from bot.channels.telegram.gateway import TelegramGateway
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.outbox import Outbox
from bot.delivery.ratelimit import RateLimiter, RateLimits
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import SystemClock
from bot.domain.model import Channel, OutboundDraft, OutboundKind
from bot.storage.uow import Storage

NUDGE_TOKEN = "111:NUDGE"
REF_TOKEN = "222:AIOGRAM"


async def fill(storage: Storage, chats: list[int], tag: str) -> None:
    """One contact per chat and one outbox row per entry of `chats` (repeats = busy chats)."""
    clock = SystemClock()
    outbox = Outbox({Channel.TELEGRAM: 4096})
    contacts: dict[int, int] = {}
    async with storage.uow() as uow:
        for index, chat in enumerate(chats):
            if chat not in contacts:
                contacts[chat] = (await uow.contacts.create(f"User {chat}", "en")).id
            draft = OutboundDraft(
                key=f"{tag}:{index}",
                contact_id=contacts[chat],
                channel=Channel.TELEGRAM,
                address=str(chat),
                text=f"Your order <b>#{index}</b> has shipped. Track it in your account.",
                kind=OutboundKind.BROADCAST,
            )
            await outbox.enqueue(uow, draft, clock.now())
        await uow.commit()


async def drain(dispatcher: Dispatcher, storage: Storage, total: int) -> None:
    done = 0
    while done < total:
        report = await dispatcher.tick()
        if not report.claimed:
            await asyncio.sleep(0.02)  # rows deferred by the rate limit become due later
        async with storage.uow() as uow:
            counts = await uow.outbox.count_by_status()
        done = total - counts["pending"] - counts["sending"]  # type: ignore[index]


def dispatcher_for(
    storage: Storage, bot: Bot, limits: RateLimits, batch: int, conc: int
) -> Dispatcher:
    clock = SystemClock()
    return Dispatcher(
        storage.uow,
        {Channel.TELEGRAM: TelegramGateway(bot)},
        {Channel.TELEGRAM: RateLimiter(limits, clock)},
        clock,
        RetryPolicy(),
        batch_size=batch,
        concurrency=conc,
    )


async def nudge_run(fake: str, args: argparse.Namespace, tmp: Path) -> tuple[float, float]:
    storage = Storage(f"sqlite+aiosqlite:///{tmp / 'unlimited.db'}")
    await storage.upgrade()
    await fill(storage, [FIRST_USER_ID + i for i in range(args.messages)], "u")
    bot = build_bot(NUDGE_TOKEN, fake, 30, connection_limit=args.concurrency)
    dispatcher = dispatcher_for(
        storage, bot, RateLimits.telegram(enabled=False), 500, args.concurrency
    )
    cpu0, t0 = time.process_time(), time.monotonic()
    await drain(dispatcher, storage, args.messages)
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    await bot.session.close()
    await storage.dispose()
    return wall, cpu


async def aiogram_run(fake: str, args: argparse.Namespace) -> tuple[float, float]:
    bot = build_bot(REF_TOKEN, fake, 30, connection_limit=args.concurrency)
    gate = asyncio.Semaphore(args.concurrency)

    async def send(index: int) -> None:
        async with gate:
            await bot.send_message(
                FIRST_USER_ID + index,
                f"Your order <b>#{index}</b> has shipped. Track it in your account.",
                parse_mode="HTML",
            )

    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.gather(*(send(i) for i in range(args.messages)))
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    await bot.session.close()
    return wall, cpu


async def limited_run(fake: str, tmp: Path) -> dict[str, int]:
    """60 messages to 6 busy chats (10 each) and 120 to quiet chats, default limits."""
    busy = [FIRST_USER_ID + i for i in range(6)] * 10
    quiet = [FIRST_USER_ID + 100 + i for i in range(120)]
    storage = Storage(f"sqlite+aiosqlite:///{tmp / 'limited.db'}")
    await storage.upgrade()
    await fill(storage, busy + quiet, "l")
    bot = build_bot(NUDGE_TOKEN, fake, 30)
    dispatcher = dispatcher_for(storage, bot, RateLimits.telegram(), 200, 64)
    await drain(dispatcher, storage, len(busy) + len(quiet))
    await bot.session.close()
    await storage.dispose()
    stats = await fake_stats(fake, NUDGE_TOKEN, window=1)
    per_chat = [await _chat_stats(fake, chat) for chat in sorted(set(busy))]
    return {
        "sent": int(str(stats["messages"])),
        "max_global_per_1s": int(str(stats["max_sends_in_window"])),
        "max_per_chat_per_1s": max(per_chat),
    }


async def _chat_stats(fake: str, chat: int) -> int:
    import aiohttp

    # 0.999 s: two sends exactly one second apart are allowed (1 message per second).
    url = f"{fake}/_fake/stats?token={NUDGE_TOKEN}&window=0.999&chat_id={chat}"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return int((await resp.json())["result"]["max_sends_in_window"])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    port = free_port()
    fake = f"http://127.0.0.1:{port}"
    process = start_fake_server(port, [NUDGE_TOKEN, REF_TOKEN], max(args.messages, 300))
    tmp = Path(tempfile.mkdtemp(prefix="nudge-outbound-"))
    try:
        await wait_http(f"{fake}/_fake/stats", process)
        ref_wall, ref_cpu = await aiogram_run(fake, args)
        wall, cpu = await nudge_run(fake, args, tmp)
        async with __import__("aiohttp").ClientSession() as http:
            await http.post(f"{fake}/_fake/reset")
        limited = await limited_run(fake, tmp)
    finally:
        stop(process)
    n = args.messages
    print(f"machine: {machine()}")
    print(f"limits off: {n} messages to {n} chats, concurrency {args.concurrency}")
    print(f"{'':22}{'msgs/s':>10}{'msgs/CPU-s':>12}")
    print(f"{'nudge dispatcher':22}{n / wall:10.0f}{n / cpu:12.0f}")
    print(f"{'bare aiogram loop':22}{n / ref_wall:10.0f}{n / ref_cpu:12.0f}")
    print(f"ratio nudge / aiogram: {ref_wall / wall:.2f} (wall), {ref_cpu / cpu:.2f} (CPU)")
    verdict = "meets" if n / wall >= 1000 else "MISSES"
    print(f"goal >= 1000 msgs/s from one process: {verdict}")
    ok = limited["max_global_per_1s"] <= 25 and limited["max_per_chat_per_1s"] <= 1
    print(
        f"default limits: {limited['sent']} sent; max {limited['max_global_per_1s']} in any 1 s "
        f"(limit 25), max {limited['max_per_chat_per_1s']} per chat in any 1 s (limit 1): "
        f"{'no window over the limits' if ok else 'LIMIT EXCEEDED'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
