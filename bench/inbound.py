"""Inbound throughput: updates per CPU-second through webhook -> store -> reply -> outbox ->
fake Bot API, side by side with a bare aiogram echo bot on the same fake server.

Nudge answers each question from the demo knowledge base (ranking, a stored interaction, the
article and "Did this help?": two messages); the echo bot sends one message back. Both bots run
as their own processes; the load generator (this script) posts the same updates
to each bot's webhook and waits until the fake server has recorded every reply. The figure is
updates per CPU-second of the bot's process (user + system time from /proc), which is far less
noisy on a shared machine than wall time. Goal: Nudge keeps at least half of aiogram's rate.

Even per CPU-second both bots' figures move by a quarter between runs minutes apart on a shared
VM, so the three runs (reply, echo, KB answer) are repeated `--repeat` times in turn, each
round with fresh processes and its own bot tokens; the headline is the median over the rounds
of each round's ratio to the echo run beside it.

    python bench/inbound.py [--updates 3000] [--concurrency 32] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._fake_server import FIRST_USER_ID
from bench._support import (
    ROOT,
    cpu_seconds,
    free_port,
    machine,
    spawn,
    start_fake_server,
    stop,
    wait_http,
    wait_messages,
)

SECRET = "bench-secret"


@dataclass
class Figure:
    name: str
    updates: int
    wall: float
    cpu: float

    @property
    def per_cpu_second(self) -> float:
        return self.updates / self.cpu

    @property
    def per_second(self) -> float:
        return self.updates / self.wall


# Questions the demo knowledge base answers: each costs Nudge a ranking, an interaction row and
# two replies (the article and "Did this help?"), where the echo bot sends one message back.
QUESTIONS = (
    "how long does delivery take",
    "how much does delivery cost",
    "can i pay with paypal",
    "how do i return an item",
    "where is my order",
    "when will i get my refund",
    "do you ship abroad",
    "how do gift cards work",
    "my parcel arrived broken",
    "can i change my order",
)
NUDGE_REPLIES_PER_UPDATE = 2


def update(update_id: int, user_id: int) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1767600000,
            "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
            "from": user,
            "text": QUESTIONS[update_id % len(QUESTIONS)],
        },
    }


async def blast(url: str, count: int, users: int, concurrency: int, first_id: int) -> None:
    queue = iter(range(count))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for i in queue:
                body = update(first_id + i, FIRST_USER_ID + i % users)
                async with http.post(url, json=body, headers=headers) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"webhook answered {resp.status}: {await resp.text()}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(name, process, webhook, fake, token, args, first_id, replies=1) -> Figure:  # type: ignore[no-untyped-def]
    # Warm up (imports, connections, SQLite pages), then measure a fresh batch.
    warm = max(args.updates // 10, 50)
    await blast(webhook, warm, args.users, args.concurrency, first_id)
    await wait_messages(fake, token, warm * replies)
    cpu0, t0 = cpu_seconds(process.pid), time.monotonic()
    await blast(webhook, args.updates, args.users, args.concurrency, first_id + warm)
    done = await wait_messages(fake, token, (warm + args.updates) * replies)
    return Figure(name, args.updates, done - t0, cpu_seconds(process.pid) - cpu0)


def nudge_environment(
    tmp: Path, port: int, fake: str, token: str, knowledge: bool
) -> dict[str, str]:
    (tmp / "config.yaml").write_text("# bench: defaults\n")
    return {
        "NUDGE_CONFIG": str(tmp / "config.yaml"),
        "NUDGE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp / 'nudge.db'}",
        "NUDGE_WEB__PORT": str(port),
        "NUDGE_WEB__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "NUDGE_TELEGRAM__MODE": "webhook",
        "NUDGE_TELEGRAM__API_SERVER": fake,
        "NUDGE_TELEGRAM_TOKEN": token,
        "NUDGE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "NUDGE_DELIVERY__LIMITS_ENABLED": "false",  # a throughput figure, not a limits test
        "NUDGE_BOT__TEMPLATES_DIR": str(ROOT / "templates"),
        "NUDGE_KNOWLEDGE__ENABLED": "true" if knowledge else "false",
        "NUDGE_KNOWLEDGE__FOLDER": str(ROOT / "knowledge_base"),
        "NUDGE_KNOWLEDGE__RELOAD_SECONDS": "0",
        "NUDGE_LOGGING__LEVEL": "WARNING",
    }


async def run_nudge(name: str, token: str, fake: str, args, knowledge: bool) -> Figure:  # type: ignore[no-untyped-def]
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="nudge-bench-"))
    command = [sys.executable, "-m", "bot", "run"]
    if args.profile:  # py-spy samples the bot; the CPU figure is then py-spy's, not the bot's
        out = f"{args.profile}.{'kb' if knowledge else 'reply'}"  # one file per run
        command = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", out, "--", *command]
    process = spawn(command, nudge_environment(tmp, port, fake, token, knowledge))
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz", process)
        webhook = f"http://127.0.0.1:{port}/telegram/webhook"
        replies = NUDGE_REPLIES_PER_UPDATE if knowledge else 1
        return await measure(name, process, webhook, fake, token, args, 1, replies)
    finally:
        stop(process)


async def run_echo(token: str, fake: str, args) -> Figure:  # type: ignore[no-untyped-def]
    port = free_port()
    script = str(ROOT / "bench" / "echo_bot.py")
    process = spawn([sys.executable, script, token, fake, str(port), SECRET])
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz", process)
        webhook = f"http://127.0.0.1:{port}/webhook"
        return await measure("aiogram echo", process, webhook, fake, token, args, 1)
    finally:
        stop(process)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three runs")
    parser.add_argument(
        "--profile", help="write py-spy profiles of the bot to PROFILE.reply and PROFILE.kb"
    )
    args = parser.parse_args()

    fake_port = free_port()
    fake = f"http://127.0.0.1:{fake_port}"
    # The fake server counts each bot's messages since it started: a token per bot and round.
    rounds = [
        (f"1{r:02d}:NUDGE", f"2{r:02d}:ECHO", f"3{r:02d}:NUDGEKB") for r in range(args.repeat)
    ]
    fake_proc = start_fake_server(fake_port, [t for tokens in rounds for t in tokens], args.users)
    results: list[tuple[Figure, Figure, Figure]] = []
    try:
        await wait_http(f"{fake}/_fake/stats", fake_proc)
        for nudge_token, echo_token, kb_token in rounds:
            plain = await run_nudge("nudge (reply)", nudge_token, fake, args, knowledge=False)
            ref = await run_echo(echo_token, fake, args)
            kb = await run_nudge("nudge (KB answer)", kb_token, fake, args, knowledge=True)
            results.append((plain, ref, kb))
    finally:
        stop(fake_proc)
    report(results, args)


def report(results: list[tuple[Figure, Figure, Figure]], args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    print(
        f"{args.updates} updates from {args.users} users, {args.concurrency} concurrent posts, "
        f"{len(results)} round(s)"
    )
    print(f"{'':20}{'updates/s':>12}{'updates/CPU-s':>16}{'CPU s':>8}{'ratio':>8}")
    for number, (plain, ref, kb) in enumerate(results, start=1):
        print(f"round {number}")
        for fig in (plain, kb, ref):
            ratio = fig.per_cpu_second / ref.per_cpu_second
            print(
                f"  {fig.name:18}{fig.per_second:12.0f}{fig.per_cpu_second:16.0f}{fig.cpu:8.2f}"
                f"{ratio:8.2f}"
            )
    for index, name in ((0, "nudge (reply)"), (2, "nudge (KB answer)")):
        ratios = [r[index].per_cpu_second / r[1].per_cpu_second for r in results]
        print(
            f"{name} / aiogram echo per CPU-second: median {statistics.median(ratios):.2f} "
            f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})"
        )
    ratio = statistics.median(r[0].per_cpu_second / r[1].per_cpu_second for r in results)
    verdict = "meets" if ratio >= 0.5 else "MISSES"
    print(f"reply pipeline: {verdict} the goal >= 0.50")
    print(
        "nudge (KB answer) also ranks the knowledge base, stores the decision and sends 2 messages"
    )


if __name__ == "__main__":
    asyncio.run(main())
