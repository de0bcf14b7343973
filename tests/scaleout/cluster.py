"""Helpers for tests (and bench/scale.py) that run real worker processes (`nudge run --role
worker`) on one PostgreSQL against the fake Bot API in a process of its own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.delivery.outbox import Outbox
from bot.domain.model import Channel, OutboundDraft, OutboundKind, OutboxStatus
from bot.funnel.db_ports import FunnelRules
from bot.funnel.library import FunnelLibrary
from bot.funnel.runner import FunnelRunner
from bot.rendering import Renderer
from bot.storage.tables import metadata
from bot.storage.uow import Storage
from tests.scaleout.fake_api import FIRST_USER_ID

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7000001:scale-out-test-token"
NUDGE = [sys.executable, "-m", "bot"]
OPEN = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@dataclass
class FakeApi:
    process: subprocess.Popen[str]
    base_url: str

    async def _get(self, path: str, **query: Any) -> Any:
        async with aiohttp.ClientSession() as session:
            params = {"token": TOKEN, **{k: str(v) for k, v in query.items()}}
            async with session.get(f"{self.base_url}/_fake/{path}", params=params) as answer:
                body = await answer.json()
        return body["result"]

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        url = f"{self.base_url}/_fake/{path}"
        async with aiohttp.ClientSession() as session, session.post(url, json=body) as answer:
            assert answer.status == 200, await answer.text()

    async def texts(self) -> Counter[str]:
        """How many times each text reached Telegram (a duplicate counts twice)."""
        result = await self._get("messages")
        return Counter(message["text"] for message in result["messages"])

    async def messages_per_chat(self) -> Counter[int]:
        result = await self._get("messages")
        return Counter(int(message["chat_id"]) for message in result["messages"])

    async def max_in_window(self, seconds: float, chat_id: int | None = None) -> int:
        query: dict[str, Any] = {"window": seconds}
        if chat_id is not None:
            query["chat_id"] = chat_id
        return int((await self._get("stats", **query))["max_sends_in_window"])

    async def listen_also(self) -> str:
        """One more address of this fake; each call records the one it came in on, so
        processes given different addresses can be told apart."""
        url = f"{self.base_url}/_fake/listen"
        async with aiohttp.ClientSession() as session, session.post(url, json={}) as answer:
            body = await answer.json()
        return str(body["result"]["base_url"])

    async def calls(self, method: str) -> list[dict[str, Any]]:
        """The Bot API calls of `method` so far: status, port (which address), description."""
        return list(await self._get("calls", method=method))

    async def slow_sends(self, seconds: float) -> None:
        fault = {"kind": "slow", "seconds": seconds, "times": None, "token": TOKEN}
        await self._post("faults", fault)

    async def random_faults(self, **probabilities: float) -> None:
        """e.g. retry_after=0.05, server_error=0.05, drop=0.01 (per sendMessage)."""
        await self._post("random_faults", {**probabilities, "seed": 7})

    def stop(self) -> None:
        stop_process(self.process)


def start_fake_api(users: int) -> FakeApi:
    spec = json.dumps({"token": TOKEN, "users": users})
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.scaleout.fake_api", spec],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http"):
        stop_process(process)
        raise RuntimeError(f"the fake Bot API did not start: {base_url!r}")
    return FakeApi(process, base_url)


def stop_process(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Cluster:
    """A config file for worker processes, and the processes started from it."""

    folder: Path
    database_url: str
    api_url: str
    delivery: dict[str, Any] = field(default_factory=dict)
    workers: list[subprocess.Popen[str]] = field(default_factory=list)
    funnels: Path | None = None  # a folder of funnel files; none by default

    def config_path(self) -> Path:
        empty = self.folder / "empty"
        empty.mkdir(exist_ok=True)
        config = {
            "storage": {"url": self.database_url},
            "telegram": {"api_server": self.api_url, "request_timeout_seconds": 10},
            "knowledge": {"enabled": False},
            "handoff": {"enabled": False},
            "funnels": {"folder": str(self.funnels or empty), "frequency_cap_messages": 0},
            "surveys": {"folder": str(empty), "after_close": None},
            "bot": {"templates_dir": str(ROOT / "templates")},
            "delivery": {"limits_enabled": False, **self.delivery},
            "logging": {"level": "WARNING"},
        }
        path = self.folder / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    def start_worker(self, role: str = "worker", **env_vars: str) -> subprocess.Popen[str]:
        index = len(self.workers)
        env = {**os.environ, "NUDGE_TELEGRAM_TOKEN": TOKEN, "NUDGE_CONFIG": "", **env_vars}
        log = (self.folder / f"worker-{index}.log").open("w")
        arguments = ["--config", str(self.config_path()), "run", "--role", role]
        process = subprocess.Popen(
            [*NUDGE, *arguments, "--no-migrate"],
            cwd=self.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.workers.append(process)
        return process

    def stop(self) -> None:
        for process in self.workers:
            stop_process(process)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.folder.glob("worker-*.log")))


async def empty_database(storage: Storage) -> None:
    async with storage.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


async def seed_outbox(storage: Storage, count: int, chats: int) -> None:
    """`count` due replies over `chats` chats (one contact each); text `message N`."""
    now = storage.clock.now()
    async with storage.uow() as uow:
        contacts = [(await uow.contacts.create(f"User{n}", "en")).id for n in range(chats)]
        for n in range(count):
            chat = n % chats
            draft = OutboundDraft(
                key=f"scale-{n}",
                contact_id=contacts[chat],
                channel=Channel.TELEGRAM,
                address=str(FIRST_USER_ID + chat),
                text=f"message {n}",
                kind=OutboundKind.REPLY,
            )
            await uow.outbox.add(draft, now)
        await uow.commit()


async def counts(storage: Storage) -> dict[OutboxStatus, int]:
    async with storage.uow() as uow:
        return await uow.outbox.count_by_status()


async def wait_until_settled(
    storage: Storage, within: float, cluster: Cluster | None = None
) -> dict[OutboxStatus, int]:
    """Poll the outbox until no row is pending or being sent (real processes: real time)."""
    deadline = time.monotonic() + within
    while True:
        now = await counts(storage)
        if not any(now[status] for status in OPEN):
            return now
        if time.monotonic() > deadline:
            logs = cluster.logs()[-4000:] if cluster is not None else ""
            raise AssertionError(f"outbox not settled after {within}s: {now}\n{logs}")
        await asyncio.sleep(0.2)


async def wait_for(storage: Storage, status: OutboxStatus, at_least: int, within: float) -> None:
    deadline = time.monotonic() + within
    while (await counts(storage))[status] < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {at_least} rows {status} after {within}s")
        await asyncio.sleep(0.05)


FUNNEL = """
id: welcome
trigger: {event: signed_up}
steps:
  - id: hello
    send: funnel_welcome_hello
"""


def write_funnel(folder: Path) -> None:
    """A one-step funnel: one message per contact entering it."""
    (folder / "welcome.yaml").write_text(FUNNEL)


async def seed_funnel(storage: Storage, folder: Path, contacts: int) -> None:
    """`contacts` Telegram contacts (chats FIRST_USER_ID...) entered into the funnel of
    `folder`, every first step due now, in one transaction."""
    renderer = Renderer(ROOT / "templates", "en")
    library = FunnelLibrary(folder, renderer)
    library.refresh()
    [funnel] = library.current()
    rules = FunnelRules("UTC", "en", None)
    runner = FunnelRunner(storage.uow, library.current, renderer, Outbox({}), rules, storage.clock)
    async with storage.uow() as uow:
        entries: list[tuple[int, dict[str, Any]]] = []
        for n in range(contacts):
            contact = await uow.contacts.create(f"User{n}", "en")
            user = str(FIRST_USER_ID + n)
            await uow.identities.add(contact.id, Channel.TELEGRAM, user, user, None)
            entries.append((contact.id, {}))
        entered = await runner.enroll_many(uow, funnel, entries, storage.clock.now())
        assert len(entered) == contacts
        await uow.commit()


async def funnel_work_done(storage: Storage) -> bool:
    """No step due or waiting, and no message left to send."""
    async with storage.uow() as uow:
        statuses = await uow.enrollments.count_by_status()
    outbox = await counts(storage)
    open_steps = sum(n for status, n in statuses.items() if status.is_open)
    return not open_steps and not any(outbox[status] for status in OPEN)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for a process started next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def user_says(api: FakeApi, user: int, text: str) -> None:
    """A Telegram user writes to the bot through the fake Bot API's control endpoint."""
    body = {"token": TOKEN, "user_id": user, "text": text}
    url = f"{api.base_url}/_fake/send_text"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as answer:
        assert answer.status == 200, await answer.text()
