"""Fixtures of the scale-out tests: a Redis for the shared rate limits (skipped when there is
none: CI starts one, see .ci/run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.domain.clock import SystemClock
from bot.storage.uow import Storage
from tests.scaleout.cluster import Cluster, FakeApi, empty_database, start_fake_api

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


@pytest.fixture
async def pg_storage(postgres_database_url: str) -> AsyncIterator[Storage]:
    """The session's PostgreSQL database, migrated and emptied, on the real clock: worker
    processes share it, and they run on the real clock."""
    storage = Storage(postgres_database_url, clock=SystemClock())
    await storage.upgrade()
    await empty_database(storage)
    yield storage
    await empty_database(storage)
    await storage.dispose()


@pytest.fixture
def cluster_factory(
    tmp_path: Path, postgres_database_url: str
) -> Iterator[Callable[..., tuple[Cluster, FakeApi]]]:
    """`make(users, **delivery)`: a fake Bot API process and a cluster config for workers;
    every process is stopped at the end."""
    started: list[tuple[Cluster, FakeApi]] = []

    def make(users: int, **delivery: Any) -> tuple[Cluster, FakeApi]:
        api = start_fake_api(users)
        cluster = Cluster(tmp_path, postgres_database_url, api.base_url, delivery)
        started.append((cluster, api))
        return cluster, api

    yield make
    for cluster, api in started:
        cluster.stop()
        api.stop()
