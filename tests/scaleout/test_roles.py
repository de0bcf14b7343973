"""`nudge run --role`: a web process receives and stores, worker processes handle and reply."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.cli import build_parser
from bot.domain.model import Direction, InboundStatus
from bot.storage.tables import inbound_updates
from bot.storage.uow import Storage
from tests.scaleout.cluster import Cluster, FakeApi, free_port, user_says
from tests.scaleout.conftest import REDIS_URL
from tests.scaleout.fake_api import FIRST_USER_ID

USERS = 12
MESSAGES_EACH = 3

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


def test_run_takes_a_role_and_refuses_others(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["run"]).role == "all"
    assert parser.parse_args(["run", "--role", "worker"]).role == "worker"
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--role", "janitor"])
    assert "invalid choice: 'janitor'" in capsys.readouterr().err


async def _processed(storage: Storage) -> int:
    statement = select(func.count()).where(
        inbound_updates.c.status == InboundStatus.PROCESSED.value
    )
    async with storage.engine.connect() as conn:
        return int((await conn.execute(statement)).scalar_one())


async def test_a_web_process_stores_and_two_workers_answer(
    pg_storage: Storage, cluster_factory: MakeCluster
) -> None:
    cluster, api = cluster_factory(USERS)
    cluster.start_worker("web", NUDGE_WEB__PORT=str(free_port()))
    cluster.start_worker("worker")
    cluster.start_worker("worker")
    for round_ in range(MESSAGES_EACH):
        for user in range(USERS):
            await user_says(api, FIRST_USER_ID + user, f"question {round_} from {user}")

    deadline = time.monotonic() + 120
    while await _processed(pg_storage) < USERS * MESSAGES_EACH:  # other processes: poll
        assert time.monotonic() < deadline, cluster.logs()[-3000:]
        await asyncio.sleep(0.2)

    async with pg_storage.uow() as uow:
        contacts = await uow.contacts.get_many(range(1, 10_000))
        histories = [await uow.messages.history(contact) for contact in contacts]
    assert len(contacts) == USERS  # one contact per customer, even with two workers
    for history in histories:  # each customer's questions were handled in the order sent
        asked = [m.text for m in history if m.direction is Direction.INBOUND]
        assert [text.split()[1] for text in asked] == ["0", "1", "2"], asked
    replies = await api.texts()
    assert sum(replies.values()) >= USERS * MESSAGES_EACH  # every question was answered


async def test_a_web_chat_reply_sent_by_a_worker_reaches_the_tab_on_the_web_process(
    pg_storage: Storage, cluster_factory: MakeCluster, redis: Redis
) -> None:
    cluster, _ = cluster_factory(1, redis_url=REDIS_URL)
    port = free_port()
    cluster.start_worker("web", NUDGE_WEB__PORT=str(port))
    cluster.start_worker("worker")
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        ws = await _connect(http, base, cluster)
        await ws.send_json({"type": "hello", "language": "en"})
        await ws.send_json({"type": "message", "client_id": "c1", "text": "hello there"})
        # The web process holds the socket; a worker sends the reply: it comes through Redis.
        reply = await _next_message(ws)
        assert reply["id"].startswith("web-") and reply["html"]
        await ws.close()


async def _connect(
    http: aiohttp.ClientSession, base: str, cluster: Cluster
) -> aiohttp.ClientWebSocketResponse:
    deadline = time.monotonic() + 60
    while True:  # the web process is another process: poll until it listens
        try:
            return await http.ws_connect(f"{base}/webchat/ws", origin=base)
        except aiohttp.ClientConnectionError:
            assert time.monotonic() < deadline, cluster.logs()[-3000:]
            await asyncio.sleep(0.2)


async def _next_message(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=60)
        if frame.get("type") == "message":
            return frame
