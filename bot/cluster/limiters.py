"""Which rate limiter a process uses: its own count, or one count shared in Redis."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from bot.channels.webchat.hub import WebchatHub
from bot.cluster.identity import bot_id
from bot.cluster.redis_limits import RedisLimiter
from bot.cluster.webchat_fanout import FanoutHub
from bot.config import Settings
from bot.delivery.limits import LocalLimiter, SendLimiter
from bot.delivery.ratelimit import RateLimiter, RateLimits
from bot.domain.clock import Clock


def build_limiter(limits: RateLimits, clock: Clock, settings: Settings, worker: str) -> SendLimiter:
    """Shared through `delivery.redis_url` when it is set, else counted in this process.

    The counts are per bot (Telegram counts per bot token): the key prefix carries its id.
    """
    url = settings.delivery.redis_url
    if url is None:
        return LocalLimiter(RateLimiter(limits, clock))
    token = settings.secrets.telegram_token
    bot = bot_id(token.get_secret_value() if token is not None else None)
    return RedisLimiter(
        Redis.from_url(url),
        limits,
        clock,
        prefix=f"nudge:limits:telegram:{bot}",
        worker_id=worker,
        max_flight=_max_flight(settings),
    )


def _max_flight(settings: Settings) -> timedelta:
    """A send in flight longer than its request can last belongs to a worker that died."""
    return timedelta(seconds=settings.telegram.request_timeout_seconds * 2 + 10)


def build_hub(settings: Settings) -> WebchatHub:
    """With several processes (`delivery.redis_url`), web chat pushes go through Redis to the
    process holding the visitor's tab; alone, the hub is this process's."""
    url = settings.delivery.redis_url
    if url is None:
        return WebchatHub()
    token = settings.secrets.telegram_token
    bot = bot_id(token.get_secret_value() if token is not None else None)
    return FanoutHub(Redis.from_url(url), f"nudge:webchat:{bot}")
