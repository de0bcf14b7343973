"""The hand-off end to end with both bots: the customer's (aiogram) and the agents' desk
(python-telegram-bot), each talking real HTTP to the fake Bot API server, in one Nudge app."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.clock import FakeClock
from bot.fake_telegram.models import SentMessage
from bot.process import Nudge
from tests.e2e.conftest import TOKEN, Harness, let_time_pass, settle

DESK_TOKEN = "777:DESK-TOKEN"
GROUP = -100777
ALICE, BOB, MALLORY = 1001, 1002, 6666
CUSTOMER = 3001
AGENTS = [
    {"key": "alice", "name": "Alice", "telegram_user_id": ALICE},
    {"key": "bob", "name": "Bob", "telegram_user_id": BOB},
]


@dataclass
class Desk:
    """The app, the customer Kim and the agents' forum group."""

    harness: Harness
    app: Nudge
    desk_updates: int = 0
    customer_updates: int = 0
    users: dict[int, Any] = field(default_factory=dict)

    @property
    def fake(self) -> Any:
        return self.harness.fake

    def to_customer(self) -> list[str]:
        return [m.plain_text for m in self.fake.sent_messages(TOKEN, chat_id=CUSTOMER)]

    def group_posts(self) -> list[SentMessage]:
        return list(self.fake.sent_messages(DESK_TOKEN, chat_id=GROUP))

    def topic_texts(self) -> list[str]:
        return [m.plain_text for m in self.group_posts() if m.thread_id is not None]

    async def customer_says(self, text: str) -> list[str]:
        before = len(self.to_customer())
        await self.fake.send_text(TOKEN, self.users[CUSTOMER], text)
        self.customer_updates += 1
        await self.fake.wait_for_updates_confirmed(TOKEN, self.customer_updates)
        await let_time_pass(self.app, self.harness.clock)
        return self.to_customer()[before:]

    async def agent_writes(self, agent: int, text: str) -> None:
        thread = self.topic()
        await self.fake.send_text(DESK_TOKEN, self.users[agent], text, chat=GROUP, thread_id=thread)
        await self._desk_handled()

    async def agent_presses(self, agent: int, verb: str) -> str | None:
        message, data = self._button(verb)
        update = await self.fake.press_button(DESK_TOKEN, self.users[agent], message, data)
        await self._desk_handled()
        answer = self.fake.callback_answer(DESK_TOKEN, update["callback_query"]["id"])
        return answer.text if answer is not None else None

    async def _desk_handled(self) -> None:
        self.desk_updates += 1
        await self.fake.wait_for_updates_confirmed(DESK_TOKEN, self.desk_updates)
        await let_time_pass(self.app, self.harness.clock)

    def topic(self) -> int:
        threads = [m.thread_id for m in self.group_posts() if m.thread_id is not None]
        assert threads, "no forum topic was opened"
        return threads[-1]

    def _button(self, verb: str) -> tuple[SentMessage, str]:
        for message in reversed(self.group_posts()):
            for row in (message.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"].lower().endswith(verb.lower()):
                        return message, button["callback_data"]
        raise AssertionError(f"no {verb!r} button in the agents' group")


async def open_desk(harness: Harness, **handoff: Any) -> Desk:
    fake = harness.fake
    fake.add_bot(DESK_TOKEN, username="nudge_desk_bot", first_name="Desk")
    users = {
        ALICE: fake.add_user(ALICE, "Alice"),
        BOB: fake.add_user(BOB, "Bob"),
        MALLORY: fake.add_user(MALLORY, "Mallory"),
        CUSTOMER: fake.add_user(CUSTOMER, "Kim", language_code="en"),
    }
    fake.add_group(GROUP, "Agents", is_forum=True, members=[ALICE, BOB, MALLORY], admins=[ALICE])
    env = {
        "NUDGE_AGENT_DESK_TOKEN": DESK_TOKEN,
        "NUDGE_HANDOFF__DESK__GROUP_CHAT_ID": str(GROUP),
        "NUDGE_HANDOFF__AGENTS": json.dumps(AGENTS),
        # The desk waits out group limits with real sleeps; the fake clock would never move.
        "NUDGE_DELIVERY__LIMITS_ENABLED": "false",
    }
    env.update({f"NUDGE_HANDOFF__{k.upper()}": v for k, v in handoff.items()})
    app = await harness.start(**env)
    await fake.wait_for_long_poll(DESK_TOKEN)
    return Desk(harness, app, users=users)


async def test_person_takes_over_replies_bot_stays_quiet_and_returns(harness: Harness) -> None:
    desk = await open_desk(harness)
    replies = await desk.customer_says("I want to talk to an operator")
    assert "connecting you with a person" in replies[-1]
    summary, transcript, offered = desk.topic_texts()[:3]
    assert summary.startswith("Kim · telegram · hand-off #1\nReason: customer asked")
    assert "👤 Kim: I want to talk to an operator" in transcript
    assert offered == "🔵 Offered to Alice. Press Take to answer."
    titles = [c.params["name"] for c in desk.fake.calls() if c.method == "createForumTopic"]
    assert titles == ["🔵 Kim · telegram"]

    answer = await desk.agent_presses(ALICE, "Take")
    assert answer is not None and "took" in answer.lower()
    assert desk.to_customer()[-1] == "Alice from our team has joined the chat."

    await desk.agent_writes(ALICE, "Hi Kim, I am looking at your order now.")
    assert desk.to_customer()[-1] == "Hi Kim, I am looking at your order now."

    assert await desk.customer_says("thanks, it is #1042") == []  # the bot stays silent
    assert "thanks, it is #1042" in desk.topic_texts()[-1]

    await desk.agent_presses(ALICE, "Close")
    assert "conversation is closed" in desk.to_customer()[-1]
    renamed = [c.params.get("name") for c in desk.fake.calls() if c.method == "editForumTopic"]
    assert renamed[-1].startswith("⚪")  # the title's status emoji follows the chat
    again = await desk.customer_says("how much does delivery cost?")
    assert again and again[-1] == "Did this help?"  # the bot answers again


async def test_someone_outside_the_agents_is_ignored(harness: Harness) -> None:
    desk = await open_desk(harness)
    await desk.customer_says("operator")
    before = len(desk.to_customer())
    await desk.agent_writes(MALLORY, "I am not an agent but hello")
    assert len(desk.to_customer()) == before  # nothing reached the customer


async def test_two_agents_press_take_one_wins_the_other_is_told(harness: Harness) -> None:
    desk = await open_desk(harness)
    await desk.customer_says("operator")
    first = await desk.agent_presses(ALICE, "Take")
    second = await desk.agent_presses(BOB, "Take")
    assert first is not None and "took" in first.lower()
    assert second == "Alice already took this chat."


@pytest.fixture
def friday_evening(harness: Harness) -> FakeClock:
    # Friday 2026-01-09 19:00 in Chisinau (17:00 UTC): the team is back on Monday at 09:00.
    harness.clock = FakeClock(datetime(2026, 1, 9, 17, 0, tzinfo=UTC))
    return harness.clock


async def test_outside_working_hours_the_customer_is_told_when(
    harness: Harness, friday_evening: FakeClock
) -> None:
    teams = json.dumps(
        {"support": {"timezone": "Europe/Chisinau", "hours": {"mon-fri": "09:00-18:00"}}}
    )
    desk = await open_desk(harness, teams=teams)
    replies = await desk.customer_says("operator")
    assert "on Monday at 09:00 (Europe/Chisinau time)" in replies[-1]
    async with desk.app.storage.uow() as uow:
        [queued] = await uow.handoffs.queued()
    assert queued.agent_id is None


async def test_an_offer_not_taken_in_time_goes_to_the_other_agent(harness: Harness) -> None:
    desk = await open_desk(harness, offer_timeout_seconds="60")
    await desk.customer_says("operator")
    async with desk.app.storage.uow() as uow:
        [first] = await uow.handoffs.open()
    harness.clock.advance(timedelta(seconds=61))
    await settle(desk.app)
    async with desk.app.storage.uow() as uow:
        [second] = await uow.handoffs.open()
    assert second.agent_id is not None and second.agent_id != first.agent_id
    assert second.declined_by == [first.agent_id]
