"""Outbound webhooks end to end: published in a transaction, POSTed to a real local aiohttp
server, retried with backoff (a FakeClock moves; nothing sleeps), failed for good on a 4xx."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.config import WebhookEndpoint
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import FakeClock
from bot.domain.events import WebhookStatus
from bot.events.dispatcher import WebhookDispatcher, WebhookTick
from bot.events.signing import verify
from bot.events.webhooks import WebhookPublisher
from bot.storage.uow import Storage

SECRET = "webhook-secret-0123456789"


@dataclass
class Receiver:
    """A shop's webhook endpoint: answers with the scripted statuses, records every request."""

    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    hang: asyncio.Event | None = None
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        if self.hang is not None:
            await self.hang.wait()
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, text=f"answer {status}", headers=headers)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    shop = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/nudge", shop.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    shop.url = f"http://{host}:{port}/hooks/nudge"
    yield shop
    if shop.hang is not None:
        shop.hang.set()
    await runner.cleanup()


def dispatcher(storage: Storage, clock: FakeClock, **options: Any) -> WebhookDispatcher:
    retry = RetryPolicy(options.pop("max_attempts", 4), 10.0, 60.0)
    return WebhookDispatcher(storage.uow, clock, SECRET, retry, **options)


async def publish(storage: Storage, clock: FakeClock, url: str, event_type: str, **kw: Any) -> int:
    publisher = WebhookPublisher(
        [
            WebhookEndpoint(url=url, events=["funnel.*", "conversation.closed"]),
            WebhookEndpoint(url=url + "?all=1", events=["*"]),
        ]
    )
    async with storage.uow() as uow:
        stored = await publisher.publish(uow, event_type, {"contact_id": 7}, clock.now(), **kw)
        await uow.commit()
    return stored


async def statuses(storage: Storage) -> list[tuple[WebhookStatus, int, str | None]]:
    async with storage.uow() as uow:
        rows = [await uow.webhooks.get(i) for i in range(1, 50)]
    found = [row for row in rows if row is not None]
    return [(row.status, row.attempts, row.last_error) for row in found]


async def test_published_per_matching_endpoint_and_signed(
    sqlite_storage: Storage, clock: FakeClock, receiver: Receiver
) -> None:
    assert await publish(sqlite_storage, clock, receiver.url, "funnel.goal_reached", key="g1") == 2
    assert await publish(sqlite_storage, clock, receiver.url, "funnel.goal_reached", key="g1") == 0
    assert await publish(sqlite_storage, clock, receiver.url, "survey.answered") == 1
    sender = dispatcher(sqlite_storage, clock)
    try:
        assert await sender.tick() == WebhookTick(claimed=3, delivered=3)
        assert await sender.tick() == WebhookTick()
    finally:
        await sender.close()
    assert len(receiver.requests) == 3
    for headers, body in receiver.requests:
        stamp, signature = headers["X-Nudge-Timestamp"], headers["X-Nudge-Signature"]
        assert verify(SECRET, stamp, signature, body, clock.now()) is None
        assert headers["Content-Type"] == "application/json"
    bodies = sorted((json.loads(body) for _, body in receiver.requests), key=lambda b: b["type"])
    assert bodies[0] == {
        "id": "g1",
        "type": "funnel.goal_reached",
        "occurred_at": clock.now().isoformat(),
        "data": {"contact_id": 7},
    }
    assert bodies[2]["type"] == "survey.answered"


async def test_5xx_is_retried_with_exponential_backoff_then_given_up(
    sqlite_storage: Storage, clock: FakeClock, receiver: Receiver
) -> None:
    await publish(sqlite_storage, clock, receiver.url, "conversation.closed", key="c1")
    receiver.answers = [(503, {})] * 8
    sender = dispatcher(sqlite_storage, clock)
    try:
        # Both endpoints want it ("conversation.closed" and "*"): two rows, retried together.
        assert (await sender.tick()).retried == 2
        for wait in (10, 20):  # 10 s, then 20 s: doubling
            clock.advance(wait - 1)
            assert await sender.tick() == WebhookTick()  # not yet due
            clock.advance(1)
            assert (await sender.tick()).retried == 2
        clock.advance(40)
        assert (await sender.tick()).failed == 2  # the 4th attempt was the last
    finally:
        await sender.close()
    assert len(receiver.requests) == 8
    [(status, attempts, error), _] = await statuses(sqlite_storage)
    assert (status, attempts) == (WebhookStatus.FAILED, 4)
    assert error == "gave up after 4 attempts: HTTP 503: answer 503"


async def test_4xx_fails_at_once_but_429_waits_for_retry_after(
    sqlite_storage: Storage, clock: FakeClock, receiver: Receiver
) -> None:
    await publish(sqlite_storage, clock, receiver.url, "conversation.closed", key="c1")
    receiver.answers = [(404, {}), (429, {"Retry-After": "120"})]
    sender = dispatcher(sqlite_storage, clock)
    try:
        assert await sender.tick() == WebhookTick(claimed=2, retried=1, failed=1)
        clock.advance(119)
        assert await sender.tick() == WebhookTick()
        clock.advance(1)
        assert await sender.tick() == WebhookTick(claimed=1, delivered=1)
    finally:
        await sender.close()
    rows = await statuses(sqlite_storage)
    assert (WebhookStatus.FAILED, 1, "HTTP 404: answer 404") in rows
    assert (WebhookStatus.DELIVERED, 2, None) in rows


async def test_connection_errors_and_timeouts_are_retried(
    sqlite_storage: Storage, clock: FakeClock, receiver: Receiver
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    publisher = WebhookPublisher([WebhookEndpoint(url=f"http://127.0.0.1:{closed_port}/h")])
    async with sqlite_storage.uow() as uow:
        await publisher.publish(uow, "funnel.exited", {}, clock.now(), key="x")
        await uow.commit()
    sender = dispatcher(sqlite_storage, clock, timeout_seconds=0.3)
    try:
        assert (await sender.tick()).retried == 1
        [(status, attempts, error)] = await statuses(sqlite_storage)
        assert (status, attempts) == (WebhookStatus.PENDING, 1)
        assert error is not None and error.startswith("connection failed")
        receiver.hang = asyncio.Event()  # answers nothing: the request times out
        await publish(sqlite_storage, clock, receiver.url, "survey.answered", key="s")
        assert (await sender.tick()).retried == 1
    finally:
        await sender.close()
    rows = await statuses(sqlite_storage)
    assert (WebhookStatus.PENDING, 1, "no answer within 0.3 s") in rows


async def test_two_ticks_at_once_never_deliver_a_row_twice(
    storage: Storage, clock: FakeClock, receiver: Receiver
) -> None:
    for n in range(5):
        await publish(storage, clock, receiver.url, "funnel.exited", key=f"k{n}")
    first, second = dispatcher(storage, clock), dispatcher(storage, clock)
    try:
        ticks = await asyncio.gather(first.tick(), second.tick(), first.tick())
    finally:
        await first.close()
        await second.close()
    assert sum(tick.delivered for tick in ticks) == 10
    ids = sorted(
        json.loads(body)["id"] + headers["X-Nudge-Delivery"] for headers, body in receiver.requests
    )
    assert len(ids) == len(set(ids)) == 10


async def test_a_lease_outlives_the_request_timeout(
    sqlite_storage: Storage, clock: FakeClock, receiver: Receiver
) -> None:
    """A row claimed by a dispatcher that died is delivered once its lease runs out."""
    await publish(sqlite_storage, clock, receiver.url, "survey.answered", key="s")
    async with sqlite_storage.uow() as uow:
        await uow.webhooks.claim_due(clock.now(), clock.now() + timedelta(seconds=70), 10)
        await uow.commit()
    sender = dispatcher(sqlite_storage, clock, timeout_seconds=10)
    try:
        assert await sender.tick() == WebhookTick()
        clock.advance(70)
        assert (await sender.tick()).delivered == 1
    finally:
        await sender.close()
