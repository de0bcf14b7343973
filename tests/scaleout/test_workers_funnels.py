"""Due funnel steps run by several worker processes: each step runs once, each contact gets its
message once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.delivery.outbox import Outbox
from bot.domain.funnel import EnrollmentStatus
from bot.domain.model import Channel, OutboxStatus
from bot.funnel.db_ports import FunnelRules
from bot.funnel.library import FunnelLibrary
from bot.funnel.runner import FunnelRunner
from bot.rendering import Renderer
from bot.storage.uow import Storage
from tests.scaleout.cluster import ROOT, Cluster, FakeApi, counts
from tests.scaleout.fake_api import FIRST_USER_ID

CONTACTS = 1500
FUNNEL = """
id: welcome
trigger: {event: signed_up}
steps:
  - id: hello
    send: funnel_welcome_hello
"""

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


async def _enroll(storage: Storage, folder: Path) -> None:
    """CONTACTS Telegram contacts entered into the funnel, all due now, in one transaction."""
    renderer = Renderer(ROOT / "templates", "en")
    library = FunnelLibrary(folder, renderer)
    library.refresh()
    [funnel] = library.current()
    runner = FunnelRunner(
        storage.uow,
        library.current,
        renderer,
        Outbox({Channel.TELEGRAM: 4096}),
        FunnelRules("UTC", "en", None),
        storage.clock,
    )
    now = storage.clock.now()
    async with storage.uow() as uow:
        entries = []
        for n in range(CONTACTS):
            contact = await uow.contacts.create(f"User{n}", "en")
            user = str(FIRST_USER_ID + n)
            await uow.identities.add(contact.id, Channel.TELEGRAM, user, user, None)
            entries.append((contact.id, {}))
        assert len(await runner.enroll_many(uow, funnel, entries, now)) == CONTACTS
        await uow.commit()


async def _wait_until_done(storage: Storage, cluster: Cluster, within: float) -> None:
    deadline = time.monotonic() + within
    while True:  # other processes do the work: poll the database
        async with storage.uow() as uow:
            open_steps = sum(
                n
                for status, n in (await uow.enrollments.count_by_status()).items()
                if status.is_open
            )
        outbox = await counts(storage)
        if not open_steps and not outbox[OutboxStatus.PENDING] + outbox[OutboxStatus.SENDING]:
            return
        assert time.monotonic() < deadline, cluster.logs()[-3000:]
        await asyncio.sleep(0.3)


@pytest.mark.parametrize("workers", [2, 4])
async def test_workers_run_each_due_step_once(
    pg_storage: Storage, cluster_factory: MakeCluster, tmp_path: Path, workers: int
) -> None:
    folder = tmp_path / "funnels"
    folder.mkdir()
    (folder / "welcome.yaml").write_text(FUNNEL)
    cluster, api = cluster_factory(CONTACTS)
    cluster.funnels = folder
    await _enroll(pg_storage, folder)
    for _ in range(workers):
        cluster.start_worker()

    await _wait_until_done(pg_storage, cluster, within=240)

    async with pg_storage.uow() as uow:
        enrollments = await uow.enrollments.count_by_status("welcome")
    assert enrollments[EnrollmentStatus.COMPLETED] == CONTACTS, enrollments
    assert (await counts(pg_storage))[OutboxStatus.SENT] == CONTACTS
    delivered = await api.messages_per_chat()
    assert len(delivered) == CONTACTS  # every contact got the step...
    assert set(delivered.values()) == {1}  # ...exactly once
