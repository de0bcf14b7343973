"""End-to-end harness: the real Nudge app (aiogram included) against the fake Bot API server.

Nothing in aiogram is mocked: Nudge's aiogram Bot talks real HTTP to `FakeTelegramServer`.
Time for the outbox comes from a FakeClock, so retry waits are moved, never slept.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.app import build_nudge
from bot.config import load_settings
from bot.domain.clock import FakeClock
from bot.fake_telegram import FakeTelegramServer
from bot.process import Nudge, Role

TOKEN = "123456:TEST-TOKEN"
WEBHOOK_SECRET = "s3cret-Token_for-tests"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Harness:
    tmp_path: Path
    fake: FakeTelegramServer
    clock: FakeClock = field(default_factory=FakeClock)
    apps: list[Nudge] = field(default_factory=list)

    @property
    def db_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.tmp_path / 'nudge.db'}"

    def environ(self, mode: str, port: int, **extra: str) -> dict[str, str]:
        env = {
            "NUDGE_STORAGE__URL": self.db_url,
            "NUDGE_WEB__PORT": str(port),
            "NUDGE_TELEGRAM__MODE": mode,
            "NUDGE_TELEGRAM__API_SERVER": self.fake.base_url,
            "NUDGE_TELEGRAM__POLLING_TIMEOUT_SECONDS": "5",
            "NUDGE_TELEGRAM__REQUEST_TIMEOUT_SECONDS": "5",
            "NUDGE_BOT__TEMPLATES_DIR": str(REPO / "templates"),
            "NUDGE_KNOWLEDGE__FOLDER": str(REPO / "knowledge_base"),
            "NUDGE_KNOWLEDGE__RELOAD_SECONDS": "0",
            "NUDGE_TELEGRAM_TOKEN": TOKEN,
        }
        if mode == "webhook":
            env["NUDGE_WEB__PUBLIC_URL"] = f"http://127.0.0.1:{port}"
            env["NUDGE_TELEGRAM_WEBHOOK_SECRET"] = WEBHOOK_SECRET
        env.update(extra)
        return env

    async def start(self, mode: str = "polling", role: Role = "all", **extra: str) -> Nudge:
        config = self.tmp_path / "config.yaml"
        config.write_text("# defaults\n")
        settings = load_settings(config, self.environ(mode, free_port(), **extra))
        app = build_nudge(settings, clock=self.clock)
        self.apps.append(app)
        await app.start(role=role)
        return app

    async def stop(self, app: Nudge) -> None:
        self.apps.remove(app)
        await app.stop()

    async def stop_all(self) -> None:
        for app in list(self.apps):
            await self.stop(app)


async def settle(app: Nudge) -> None:
    """Let the app process everything stored and send everything due (no sleeping)."""
    for _ in range(3):
        await app.inbox_pump.drain()
        await app.event_pump.drain()
        await app.funnel_pump.drain()
        await app.handoff_pump.drain()
        if app.desk is not None:
            await app.desk.pump.drain()
        await app.outbox_pump.drain()


async def let_time_pass(app: Nudge, clock: FakeClock, seconds: int = 3) -> None:
    """Settle, then move the clock one second at a time (Telegram allows 1 message/s per chat)
    so that every reply of a multi-message answer goes out."""
    for _ in range(seconds):
        await settle(app)
        clock.advance(1)
    await settle(app)


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        server.add_bot(TOKEN, username="nudge_test_bot", first_name="Nudge")
        yield server


@pytest.fixture
async def harness(tmp_path: Path, fake_telegram: FakeTelegramServer) -> AsyncIterator[Harness]:
    h = Harness(tmp_path, fake_telegram)
    try:
        yield h
    finally:
        await h.stop_all()
