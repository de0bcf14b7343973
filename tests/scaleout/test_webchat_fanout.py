"""A reply sent by one process reaches the visitor's tab held by another, through Redis."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from redis.asyncio import Redis

from bot.cluster.webchat_fanout import FanoutHub
from tests.scaleout.conftest import REDIS_URL


class Tab:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.got = asyncio.Event()

    async def send_json(self, frame: dict[str, Any], /) -> None:
        self.frames.append(frame)
        self.got.set()


async def test_a_worker_reply_reaches_the_tab_on_a_web_process(
    redis: Redis, redis_prefix: str
) -> None:
    channel = f"{redis_prefix}:webchat"
    worker = FanoutHub(Redis.from_url(REDIS_URL), channel)  # holds no tab
    web = FanoutHub(Redis.from_url(REDIS_URL), channel)
    tab = Tab()
    web.register("visitor-1", tab)
    listening = asyncio.create_task(web.listen())
    try:
        await web.listening.wait()
        frame = {"type": "message", "id": "web-1", "html": "Hi", "buttons": [], "at": "now"}
        assert await worker.push("visitor-1", frame) == 1  # one process listens
        await asyncio.wait_for(tab.got.wait(), 10)
        assert tab.frames == [frame]
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await worker.aclose()
        await web.aclose()


async def test_a_malformed_fanout_message_is_ignored(redis: Redis, redis_prefix: str) -> None:
    hub = FanoutHub(Redis.from_url(REDIS_URL), f"{redis_prefix}:webchat")
    tab = Tab()
    hub.register("v", tab)
    await hub._deliver(b"not json")
    await hub._deliver(b'{"visitor": "v"}')
    assert tab.frames == []
    await hub.aclose()
