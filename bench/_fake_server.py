"""Runs the fake Bot API for a benchmark: bots registered, user chats known, until killed."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from bot.fake_telegram import FakeTelegramServer

FIRST_USER_ID = 100_000


async def main(spec: dict[str, object]) -> None:
    server = FakeTelegramServer(port=int(str(spec["port"])))
    tokens = [str(t) for t in spec["tokens"]]  # type: ignore[attr-defined]
    for index, token in enumerate(tokens):
        server.add_bot(token, username=f"bench_bot_{index}")
    for offset in range(int(str(spec["users"]))):
        user = server.add_user(user_id=FIRST_USER_ID + offset, first_name=f"User{offset}")
        for token in tokens:
            server.register_chat_for(token, user)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
