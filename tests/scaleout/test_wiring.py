"""One process needs no Redis; `delivery.redis_url` switches the limits and the web chat hub to
the shared ones (building them does not connect: Redis is only reached when used)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.webchat.hub import WebchatHub
from bot.cluster.identity import bot_id
from bot.cluster.limiters import build_hub, build_limiter
from bot.cluster.redis_limits import RedisLimiter
from bot.cluster.webchat_fanout import FanoutHub
from bot.config import load_settings
from bot.delivery.limits import LocalLimiter
from bot.delivery.ratelimit import RateLimits
from bot.domain.clock import FakeClock

LIMITS = RateLimits.telegram()


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("storage:\n  url: sqlite+aiosqlite:///nudge.db\n")
    return path


def test_without_redis_the_limits_and_hub_are_this_processs(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path), environ={"NUDGE_TELEGRAM_TOKEN": "42:x"})
    assert isinstance(build_limiter(LIMITS, FakeClock(), settings, "w"), LocalLimiter)
    assert type(build_hub(settings)) is WebchatHub


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "redis://:secret@cache:6380/2"])
async def test_with_redis_they_are_shared(tmp_path: Path, url: str) -> None:
    environ = {"NUDGE_TELEGRAM_TOKEN": "42:x", "NUDGE_DELIVERY__REDIS_URL": url}
    settings = load_settings(_config(tmp_path), environ=environ)
    limiter = build_limiter(LIMITS, FakeClock(), settings, "w")
    hub = build_hub(settings)
    assert isinstance(limiter, RedisLimiter) and isinstance(hub, FanoutHub)
    await limiter.aclose()
    await hub.aclose()


def test_shared_keys_carry_the_bots_id_not_its_secret() -> None:
    assert bot_id("123456:AAE-secret-part") == "123456"
    assert bot_id(None) == "none"
