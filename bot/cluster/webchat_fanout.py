"""Web chat replies across processes: the process that sends a reply is not always the one
holding the visitor's socket (a worker holds none), so pushes go through Redis pub/sub and
every process delivers them to the tabs it holds.

A push is fire-and-forget, as in one process: the reply is already stored in the visitor's
history, so a tab that was not connected anywhere sees it on its next load.
"""

from __future__ import annotations

import asyncio
import json
import logging

from redis.asyncio import Redis

from bot.channels.webchat.hub import WebchatHub
from bot.channels.webchat.protocol import Frame

log = logging.getLogger(__name__)


class FanoutHub(WebchatHub):
    """A `WebchatHub` whose `push` reaches the visitor's tabs in every process."""

    def __init__(self, redis: Redis, channel: str) -> None:
        super().__init__()
        self._redis = redis
        self._channel = channel
        self.listening = asyncio.Event()

    async def push(self, visitor_token: str, frame: Frame) -> int:
        """Publish to every process; returns how many processes listen (not tabs)."""
        message = json.dumps({"visitor": visitor_token, "frame": frame})
        try:
            return int(await self._redis.publish(self._channel, message))
        except Exception:  # Redis away: the reply waits in the history, as for a closed tab
            log.exception("could not publish a web chat reply")
            return 0

    async def listen(self) -> None:
        """Deliver what any process published to the tabs this one holds (runs until
        cancelled)."""
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            self.listening.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                await self._deliver(message["data"])

    async def _deliver(self, data: bytes | str) -> None:
        try:
            body = json.loads(data)
            visitor, frame = str(body["visitor"]), dict(body["frame"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a malformed web chat fan-out message: %r", exc)
            return
        await WebchatHub.push(self, visitor, frame)

    async def aclose(self) -> None:
        await self._redis.aclose()
