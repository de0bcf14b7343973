"""The port the dispatcher asks before each send, and its in-process implementation.

`RateLimiter` (pure, in memory) keeps the limits of one process. Several workers sending for one
bot need one shared count: `bot.cluster.redis_limits.RedisLimiter` implements the same port on
Redis. Both keep the "counted until the answer comes back" rule of `RateLimiter.begin/finish`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.delivery.ratelimit import RateLimiter


class SendLimiter(Protocol):
    async def begin(self, chat_key: str, is_group: bool) -> datetime | None:
        """None: send now (counted as in flight until `finish`); else when to ask again."""
        ...

    async def finish(self, chat_key: str, is_group: bool) -> None:
        """The send begun for this chat got its answer (or failed): count it now."""
        ...

    async def free_global_slots(self) -> int:
        """How many sends the global limit allows right now (sizes a claim)."""
        ...

    async def block_chat(self, chat_key: str, until: datetime) -> None:
        """Refuse this chat until `until` (Telegram's 429 `retry_after`)."""
        ...


class LocalLimiter:
    """`RateLimiter` behind the async port: limits for this process alone."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def begin(self, chat_key: str, is_group: bool) -> datetime | None:
        return self.limiter.begin(chat_key, is_group)

    async def finish(self, chat_key: str, is_group: bool) -> None:
        self.limiter.finish(chat_key, is_group)

    async def free_global_slots(self) -> int:
        return self.limiter.free_global_slots()

    async def block_chat(self, chat_key: str, until: datetime) -> None:
        self.limiter.block_chat(chat_key, until)


def as_send_limiter(limiter: RateLimiter | SendLimiter) -> SendLimiter:
    return LocalLimiter(limiter) if isinstance(limiter, RateLimiter) else limiter
