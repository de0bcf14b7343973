"""Fixtures of the scale-out tests: a Redis for the shared rate limits (skipped when there is
none: CI starts one, see .ci/run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("NUDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # any failure to connect means: no Redis for these tests
        await client.aclose()
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    yield client
    await client.aclose()


@pytest.fixture
def redis_prefix() -> str:
    """Keys of one test only: tests never see each other's counts."""
    return f"nudge-test:{uuid.uuid4().hex[:10]}"
