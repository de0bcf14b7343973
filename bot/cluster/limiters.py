"""Which rate limiter a process uses: its own count, or one count shared in Redis."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from bot.cluster.redis_limits import RedisLimiter
from bot.config import Settings
from bot.delivery.limits import LocalLimiter, SendLimiter
from bot.delivery.ratelimit import RateLimiter, RateLimits
from bot.domain.clock import Clock


def build_limiter(limits: RateLimits, clock: Clock, settings: Settings, worker: str) -> SendLimiter:
    """Shared through `delivery.redis_url` when it is set, else counted in this process.

    The counts are per bot (Telegram counts per bot token): the key prefix carries the bot's id,
    the part of the token before the colon, which is not secret (it is the bot's user id).
    """
    url = settings.delivery.redis_url
    if url is None:
        return LocalLimiter(RateLimiter(limits, clock))
    token = settings.secrets.telegram_token
    bot_id = token.get_secret_value().split(":", 1)[0] if token is not None else "none"
    return RedisLimiter(
        Redis.from_url(url),
        limits,
        clock,
        prefix=f"nudge:limits:telegram:{bot_id}",
        worker_id=worker,
        max_flight=_max_flight(settings),
    )


def _max_flight(settings: Settings) -> timedelta:
    """A send in flight longer than its request can last belongs to a worker that died."""
    return timedelta(seconds=settings.telegram.request_timeout_seconds * 2 + 10)
