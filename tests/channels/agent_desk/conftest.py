"""The desk on real storage and the real hand-off service, talking real HTTP (python-telegram-bot)
to the fake Bot API server. Customers write through `tests.handoff.scenario.World`; agents write
in the fake group; the desk's loops are driven step by step (`pump`/`updates`), never slept on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.channels.agent_desk.client import DeskConfig
from bot.channels.agent_desk.desk import AgentDesk
from bot.delivery.ratelimit import RateLimits
from bot.domain.clock import FakeClock
from bot.fake_telegram import FakeTelegramServer, FakeUser
from bot.fake_telegram.models import SentMessage
from bot.storage.uow import Storage
from tests.handoff.scenario import AGENTS, World, policy_from
from tests.surveys.world import SurveyWorld

DESK_TOKEN = "777:DESK-TOKEN"
GROUP_ID = -1001234
ALICE, BOB, TINA, SAM, MALLORY = 1001, 1002, 1003, 1009, 6666


@dataclass
class FakeSleep:
    """Waits (rate limits, flood waits) move the fake clock instead of taking time."""

    clock: FakeClock
    slept: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class Desk:
    """The running desk, its fake Telegram and the hand-off world behind it."""

    desk: AgentDesk
    fake: FakeTelegramServer
    world: World
    clock: FakeClock
    users: dict[int, FakeUser]
    sleep: FakeSleep

    @property
    def slept(self) -> list[float]:
        return self.sleep.slept

    def another_desk(self) -> AgentDesk:
        """A second desk on the same config, storage and fake clock (a restart)."""
        return AgentDesk(
            self.desk.config,
            self.world.storage.uow,
            self.world.handoff,
            self.clock,
            sleep=self.sleep,
            error_pause=0.0,
        )

    async def pump(self) -> None:
        """Mirror every event stored so far into the group."""
        await self.desk.pump.drain()

    async def updates(self) -> int:
        """Handle every update the agents produced so far, then mirror what they caused."""
        handled = await self.desk.handle_updates()
        await self.pump()
        return handled

    def posts(self, thread_id: int | None = None, *, anywhere: bool = False) -> list[SentMessage]:
        sent = self.fake.sent_messages(DESK_TOKEN, GROUP_ID)
        return sent if anywhere else [m for m in sent if m.thread_id == thread_id]

    def texts(self, thread_id: int | None = None) -> list[str]:
        return [m.plain_text for m in self.posts(thread_id)]

    def with_button(self, data: str) -> SentMessage:
        for message in reversed(self.posts(anywhere=True)):
            rows = (message.reply_markup or {}).get("inline_keyboard", [])
            if any(b.get("callback_data") == data for row in rows for b in row):
                return message
        raise AssertionError(f"no post has a button {data!r}")

    async def write(self, user: int, text: str, thread_id: int | None = None, **kw: Any) -> None:
        await self.fake.send_text(
            DESK_TOKEN, self.users[user], text, chat=GROUP_ID, thread_id=thread_id, **kw
        )

    async def press(self, user: int, data: str) -> dict[str, Any]:
        return await self.fake.press_button(
            DESK_TOKEN, self.users[user], self.with_button(data), data
        )

    def answer(self, update: dict[str, Any]) -> str | None:
        found = self.fake.callback_answer(DESK_TOKEN, update["callback_query"]["id"])
        assert found is not None and found.answered, "the button press was not answered"
        return found.text


async def start_desk(
    storage: Storage,
    clock: FakeClock,
    fake: FakeTelegramServer,
    *,
    forum: bool,
    handoff: dict[str, Any] | None = None,
    surveys: bool = False,
) -> AsyncIterator[Desk]:
    fake.add_bot(DESK_TOKEN, username="nudge_desk_bot", first_name="Desk")
    names = {ALICE: "Alice", BOB: "Bob", TINA: "Tina", SAM: "Sam", MALLORY: "Mallory"}
    users = {uid: fake.add_user(uid, name) for uid, name in names.items()}
    fake.add_group(GROUP_ID, "Agents", is_forum=forum, members=names, admins=[SAM])
    policy = policy_from({"agents": AGENTS, "desk": {"group_chat_id": GROUP_ID}, **(handoff or {})})
    world = SurveyWorld(storage, clock, policy) if surveys else World(storage, clock, policy)
    await world.sync_agents()
    sleep = FakeSleep(clock)
    config = DeskConfig(
        token=DESK_TOKEN,
        group_chat_id=GROUP_ID,
        api_server=fake.base_url,
        request_timeout=5,
        poll_timeout=1,
        transcript_messages=10,
        teams=policy.team_names,
    )
    desk = AgentDesk(
        config,
        storage.uow,
        world.handoff,
        clock,
        sleep=sleep,
        limits=RateLimits.telegram(),
        error_pause=0.0,
        follow_ups=world.surveys if isinstance(world, SurveyWorld) else None,
    )
    await desk.start(poll=False)
    try:
        yield Desk(desk, fake, world, clock, users, sleep)
    finally:
        await desk.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def forum(
    storage: Storage, clock: FakeClock, fake: FakeTelegramServer
) -> AsyncIterator[Desk]:
    async for desk in start_desk(storage, clock, fake, forum=True):
        yield desk


@pytest.fixture
async def plain(
    storage: Storage, clock: FakeClock, fake: FakeTelegramServer
) -> AsyncIterator[Desk]:
    async for desk in start_desk(storage, clock, fake, forum=False):
        yield desk
