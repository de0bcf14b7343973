"""Due funnel steps run by several worker processes: each step runs once, each contact gets its
message once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.domain.funnel import EnrollmentStatus
from bot.domain.model import OutboxStatus
from bot.storage.uow import Storage
from tests.scaleout.cluster import (
    Cluster,
    FakeApi,
    counts,
    funnel_work_done,
    seed_funnel,
    write_funnel,
)

CONTACTS = 1500

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


@pytest.mark.parametrize("workers", [2, 4])
async def test_workers_run_each_due_step_once(
    pg_storage: Storage, cluster_factory: MakeCluster, tmp_path: Path, workers: int
) -> None:
    folder = tmp_path / "funnels"
    folder.mkdir()
    write_funnel(folder)
    cluster, api = cluster_factory(CONTACTS)
    cluster.funnels = folder
    await seed_funnel(pg_storage, folder, CONTACTS)
    for _ in range(workers):
        cluster.start_worker()

    deadline = time.monotonic() + 240
    while not await funnel_work_done(pg_storage):  # other processes do the work: poll
        assert time.monotonic() < deadline, cluster.logs()[-3000:]
        await asyncio.sleep(0.3)

    async with pg_storage.uow() as uow:
        enrollments = await uow.enrollments.count_by_status("welcome")
    assert enrollments[EnrollmentStatus.COMPLETED] == CONTACTS, enrollments
    assert (await counts(pg_storage))[OutboxStatus.SENT] == CONTACTS
    delivered = await api.messages_per_chat()
    assert len(delivered) == CONTACTS  # every contact got the step...
    assert set(delivered.values()) == {1}  # ...exactly once
