"""The fake Bot API in a process of its own, for tests with several worker processes:
`python -m tests.scaleout.fake_api '{"token": ..., "users": N}'` registers the bot and N users
who wrote to it first (ids from FIRST_USER_ID), prints its base URL and serves until SIGTERM.
The tests read what it received through its /_fake/ control API."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from bot.fake_telegram import FakeTelegramServer

FIRST_USER_ID = 500_000


async def main(spec: dict[str, object]) -> None:
    server = FakeTelegramServer(port=0)
    token = str(spec["token"])
    server.add_bot(token, username="scale_bot")
    for offset in range(int(str(spec["users"]))):
        user = server.add_user(user_id=FIRST_USER_ID + offset, first_name=f"User{offset}")
        server.register_chat_for(token, user)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        print(server.base_url, flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
