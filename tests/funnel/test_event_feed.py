"""Shop events into the funnels, a batch at a time: the funnels a batch starts are entered
together, with the outcome of handling the events one by one (SQLite and PostgreSQL)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from bot.domain.clock import FakeClock
from bot.domain.events import ApiEventStatus
from bot.domain.funnel import EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogKind
from bot.funnel.event_feed import EventFeed
from bot.storage.uow import Storage
from tests.funnel.test_runner import CHAIN, Shop

API = """
id: api
trigger: {api: true}
steps:
  - id: hello
    send: funnel_welcome_hello
"""


@pytest.fixture
def shop(storage: Storage, clock: FakeClock, tmp_path: Path) -> Shop:
    (tmp_path / "chain.yaml").write_text(textwrap.dedent(CHAIN))
    (tmp_path / "api.yaml").write_text(textwrap.dedent(API))
    return Shop(storage, clock, tmp_path)


async def store(shop: Shop, *events: tuple[int, str, dict[str, Any]]) -> list[str]:
    keys = []
    now = shop.clock.now()
    async with shop.storage.uow() as uow:
        for contact_id, name, data in events:
            key = f"e{len(keys)}-{contact_id}-{name}"
            assert await uow.api_events.add(key, name, contact_id, data, now, now) is not None
            keys.append(key)
        await uow.commit()
    return keys


async def statuses(shop: Shop, keys: list[str]) -> list[ApiEventStatus]:
    async with shop.storage.uow() as uow:
        found = [await uow.api_events.get_by_key(key) for key in keys]
    return [event.status for event in found if event is not None]


async def test_a_batch_enters_its_funnels_together_in_event_order(shop: Shop) -> None:
    ann, bob, eve = [await shop.contact(user, f"C{user}") for user in (1, 2, 3)]
    keys = await store(
        shop,
        (ann, "signed_up", {}),
        (bob, "signed_up", {}),
        (ann, "order_paid", {}),  # ann's goal: her enrollment must exist by now
        (bob, "signed_up", {}),  # bob is inside: ignored
        (eve, "enroll", {"funnel": "api", "event": {"coupon": "X"}}),
        (eve, "enroll", {"funnel": "chain"}),
    )
    woken: list[int] = []
    feed = EventFeed(shop.storage.uow, shop.hooks, shop.clock, on_enrolled=lambda: woken.append(1))
    assert await feed.tick() == 6
    assert await statuses(shop, keys) == [ApiEventStatus.PROCESSED] * 6 and woken == [1]
    paid = await shop.enrollment(ann)
    assert paid.status is EnrollmentStatus.EXITED and paid.end_reason == "event order_paid"
    assert await shop.log(paid.id) == [FunnelLogKind.ENTERED, FunnelLogKind.GOAL]
    assert (await shop.enrollment(bob)).status is EnrollmentStatus.RUNNING
    api, chain = await shop.enrollment(eve, "api"), await shop.enrollment(eve, "chain")
    assert api.event == {"coupon": "X"} and chain.status is EnrollmentStatus.RUNNING
    async with shop.storage.uow() as uow:
        assert await uow.enrollments.count_open() == 3  # bob, eve twice


async def test_an_unknown_funnel_fails_its_event_only(shop: Shop) -> None:
    ann, bob = await shop.contact(1, "Ann"), await shop.contact(2, "Bob")
    keys = await store(
        shop,
        (ann, "signed_up", {}),
        (bob, "enroll", {"funnel": "nope"}),
        (bob, "signed_up", {}),
    )
    feed = EventFeed(shop.storage.uow, shop.hooks, shop.clock)
    assert await feed.tick() == 3
    assert await statuses(shop, keys) == [
        ApiEventStatus.PROCESSED,
        ApiEventStatus.FAILED,
        ApiEventStatus.PROCESSED,
    ]
    async with shop.storage.uow() as uow:
        failed = await uow.api_events.get_by_key(keys[1])
        assert failed is not None and failed.error == "ValueError: enroll: no funnel 'nope'"
        assert await uow.enrollments.count_open() == 2  # nothing of the failed batch twice
