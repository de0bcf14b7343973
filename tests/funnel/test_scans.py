"""The `stalled` and `quiet` triggers on real storage (SQLite and PostgreSQL), on a fake clock:
who is enrolled, when, with what event data; once per moment; a bounded batch per tick."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.model import Channel, ConversationStatus, Direction, Sender
from bot.funnel.db_ports import FunnelRules
from bot.funnel.library import FunnelLibrary
from bot.funnel.runner import FunnelRunner
from bot.funnel.scans import FunnelScans, is_question, position_key
from bot.rendering import Renderer
from bot.storage.tables import enrollments
from bot.storage.uow import Storage

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
HOUR = timedelta(hours=1)


def funnel(funnel_id: str, trigger: str, reentry: str = "once") -> str:
    return textwrap.dedent(f"""\
        id: {funnel_id}
        trigger: {trigger}
        reentry: {reentry}
        steps:
          - id: pause
            wait: 1d
        """)


class Scene:
    """A funnels folder, the runner and the scans over one storage, on a fake clock."""

    def __init__(self, storage: Storage, clock: FakeClock, folder: Path) -> None:
        self.storage, self.clock, self.folder = storage, clock, folder
        self.woken = 0

    def start(self, *funnels: str, batch_size: int = 500) -> FunnelScans:
        for text in funnels:
            funnel_id = text.split("\n", 1)[0].removeprefix("id: ")
            (self.folder / f"{funnel_id}.yaml").write_text(text)
        renderer = Renderer(TEMPLATES, "en")
        self.library = library = FunnelLibrary(self.folder, renderer)
        library.refresh()
        assert not library.current().errors
        runner = FunnelRunner(
            self.storage.uow,
            library.current,
            renderer,
            Outbox({Channel.TELEGRAM: 4096}),
            FunnelRules("UTC", "en", None),
            self.clock,
        )
        return FunnelScans(
            self.storage.uow,
            runner,
            library.current,
            self.clock,
            batch_size=batch_size,
            on_enrolled=self._wake,
        )

    def _wake(self) -> None:
        self.woken += 1

    async def chat(self, name: str = "Ann") -> tuple[int, int]:
        async with self.storage.uow() as uow:
            contact = await uow.contacts.create(name, "en")
            conversation = await uow.conversations.create(
                contact.id, Channel.TELEGRAM, self.clock.now()
            )
            await uow.commit()
        return contact.id, conversation.id

    async def say(self, chat: tuple[int, int], text: str, *, customer: bool = False) -> int:
        contact_id, conversation_id = chat
        async with self.storage.uow() as uow:
            message = await uow.messages.add(
                conversation_id,
                contact_id,
                Direction.INBOUND if customer else Direction.OUTBOUND,
                Sender.CUSTOMER if customer else Sender.BOT,
                Channel.TELEGRAM,
                text,
                self.clock.now(),
            )
            await uow.commit()
        return message.id

    async def paid(self, contact_id: int, key: str) -> int:
        now = self.clock.now()
        async with self.storage.uow() as uow:
            stored = await uow.api_events.add(key, "order_paid", contact_id, {}, now, now)
            await uow.commit()
        assert stored is not None
        return stored.id

    async def event(self, contact_id: int, funnel_id: str) -> dict[str, Any] | None:
        """The event data of the contact's latest enrollment in the funnel."""
        async with self.storage.uow() as uow:
            last = await uow.enrollments.last_for(contact_id, funnel_id)
        return None if last is None else last.event

    async def leave(self, contact_id: int) -> None:
        async with self.storage.uow() as uow:
            await uow.enrollments.exit_open_for_contact(contact_id, "test", self.clock.now())
            await uow.commit()

    async def enrollments(self) -> int:
        async with self.storage.engine.connect() as conn:
            count: int = (
                await conn.execute(select(func.count()).select_from(enrollments))
            ).scalar_one()
        return count


@pytest.fixture
def scene(storage: Storage, clock: FakeClock, tmp_path: Path) -> Scene:
    return Scene(storage, clock, tmp_path)


QUESTION = funnel("nudge", "{stalled: {after: 4h, unanswered_question: true}}", "always")
IN_BOT = funnel("in_bot", "{stalled: {after: 1d, status: bot}}")


async def test_a_question_left_unanswered_enrolls_once(scene: Scene) -> None:
    scans = scene.start(QUESTION)
    ann = await scene.chat()
    asked = await scene.say(ann, "Shall I book you for <b>Tuesday?</b>\n")
    scene.clock.advance(3 * HOUR)
    assert await scans.tick() == 0  # not `after` yet
    scene.clock.advance(HOUR)
    sent_at = scene.clock.now() - 4 * HOUR
    assert await scans.tick() == 1
    assert scene.woken == 1
    assert await scene.event(ann[0], "nudge") == {
        "conversation_id": ann[1],
        "status": "bot",
        "last_message": "Shall I book you for Tuesday?",
        "last_message_at": sent_at.isoformat(),
        "stalled_since_message": asked,
    }
    scene.clock.advance(HOUR)
    assert await scans.tick() == 0
    assert await scene.enrollments() == 1


async def test_a_reply_before_after_prevents_it(scene: Scene) -> None:
    scans = scene.start(QUESTION)
    ann = await scene.chat()
    await scene.say(ann, "Shall I book you for Tuesday?")
    scene.clock.advance(HOUR)
    await scene.say(ann, "let me think", customer=True)
    scene.clock.advance(10 * HOUR)
    assert await scans.tick() == 0
    assert scene.woken == 0


async def test_only_questions_count_with_unanswered_question(scene: Scene) -> None:
    scans = scene.start(QUESTION)
    ann, bob, cy = scene_chats = [await scene.chat(name) for name in ("Ann", "Bob", "Cy")]
    await scene.say(ann, "Your order is on its way.")
    await scene.say(bob, "Is Tuesday ok? No rush.")  # a question mark, but not at the end
    await scene.say(cy, "明天可以吗？ ")
    scene.clock.advance(5 * HOUR)
    assert await scans.tick() == 1
    found = [await scene.event(chat[0], "nudge") is not None for chat in scene_chats]
    assert found == [False, False, True]


async def test_the_status_filter_and_closed_conversations(scene: Scene) -> None:
    anywhere = funnel("anywhere", "{stalled: {after: 1d}}")
    closed = funnel("closed", "{stalled: {after: 1d, status: closed}}")
    scans = scene.start(IN_BOT, anywhere, closed)
    ann, bob, cy = [await scene.chat(name) for name in ("Ann", "Bob", "Cy")]
    for chat in (ann, bob, cy):
        await scene.say(chat, "Anything else?")
    async with scene.storage.uow() as uow:
        now = scene.clock.now()
        await uow.conversations.set_status(bob[1], ConversationStatus.WITH_AGENT, now)
        await uow.conversations.set_status(cy[1], ConversationStatus.CLOSED, now)
        await uow.commit()
    scene.clock.advance(timedelta(days=1))
    assert await scans.tick() == 4
    assert [await scene.event(ann[0], f) is not None for f in ("in_bot", "anywhere")] == [True] * 2
    assert await scene.event(bob[0], "in_bot") is None
    assert await scene.event(bob[0], "anywhere") is not None  # any open conversation
    assert await scene.event(cy[0], "anywhere") is None
    assert await scene.event(cy[0], "closed") is not None


async def test_always_reentry_once_per_stall_and_again_for_a_new_one(scene: Scene) -> None:
    scans = scene.start(QUESTION)
    ann = await scene.chat()
    first = await scene.say(ann, "Tuesday?")
    scene.clock.advance(4 * HOUR)
    assert await scans.tick() == 1
    await scene.leave(ann[0])  # out of the funnel: `always` would let the contact in again
    async with scene.storage.uow() as uow:  # even with the scan's position lost
        nudge = scene.library.current().get("nudge")
        assert nudge is not None
        await uow.settings.delete(position_key(nudge))
        await uow.commit()
    scene.clock.advance(HOUR)
    assert await scans.tick() == 0
    assert await scene.enrollments() == 1
    await scene.say(ann, "hm", customer=True)
    second = await scene.say(ann, "Wednesday then?")  # a new stall
    scene.clock.advance(4 * HOUR)
    assert await scans.tick() == 1
    assert (await scene.event(ann[0], "nudge") or {})["stalled_since_message"] == second != first
    assert await scene.enrollments() == 2


async def test_a_new_stalled_funnel_does_not_reach_old_stalls(scene: Scene) -> None:
    ann, bob = await scene.chat("Ann"), await scene.chat("Bob")
    await scene.say(ann, "Anything else?")
    scene.clock.advance(timedelta(days=9))  # Ann's stall is 9 days old, past 1d + 7d
    await scene.say(bob, "Anything else?")
    scene.clock.advance(timedelta(days=1))
    scans = scene.start(IN_BOT)
    assert await scans.tick() == 1
    assert await scene.event(ann[0], "in_bot") is None
    assert await scene.event(bob[0], "in_bot") is not None


async def test_quiet_by_message(scene: Scene) -> None:
    scans = scene.start(funnel("winback", "{quiet: {after: 30d}}"))
    ann, bob, cy = [await scene.chat(name) for name in ("Ann", "Bob", "Cy")]
    wrote = await scene.say(ann, "thanks", customer=True)
    seen_at = scene.clock.now()
    await scene.say(bob, "hi", customer=True)
    await scene.say(cy, "our news")  # Cy never wrote to us
    scene.clock.advance(timedelta(days=20))
    await scene.say(bob, "me again", customer=True)
    await scene.say(ann, "a message of ours does not count")
    scene.clock.advance(timedelta(days=10))
    assert await scans.tick() == 1
    assert await scene.event(ann[0], "winback") == {
        "last_seen_at": seen_at.isoformat(),
        "quiet_since_message": wrote,
    }
    scene.clock.advance(timedelta(days=20))
    assert await scans.tick() == 1  # Bob, 30 days after his last message
    assert await scene.event(cy[0], "winback") is None


async def test_quiet_by_purchase(scene: Scene) -> None:
    scans = scene.start(funnel("lapsed", "{quiet: {after: 60d, of: purchase}}"))
    ann, bob = await scene.chat("Ann"), await scene.chat("Bob")
    order = await scene.paid(ann[0], "o1")
    paid_at = scene.clock.now()
    await scene.paid(bob[0], "o2")
    scene.clock.advance(timedelta(days=30))
    await scene.paid(bob[0], "o3")
    scene.clock.advance(timedelta(days=30))
    assert await scans.tick() == 1
    assert await scene.event(ann[0], "lapsed") == {
        "last_purchase_at": paid_at.isoformat(),
        "quiet_since_order": order,
    }
    assert await scene.event(bob[0], "lapsed") is None


async def test_a_tick_does_a_bounded_batch(scene: Scene) -> None:
    scans = scene.start(QUESTION, batch_size=10)
    chats = [await scene.chat(f"C{index}") for index in range(25)]
    for chat in chats:
        await scene.say(chat, "Still interested?")
    scene.clock.advance(4 * HOUR)
    assert [await scans.tick() for _ in range(4)] == [10, 10, 5, 0]
    assert await scene.enrollments() == 25
    assert all([await scene.event(contact, "nudge") for contact, _ in chats])


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Tuesday?", True),
        ("<b>Tuesday?</b>\n ", True),
        ("Tuesday&#63;", True),
        ("明天？", True),
        ("Tuesday? Ok.", False),
        ("<a href='?x'>link</a>", False),
        ("", False),
    ],
)
def test_is_question(text: str, question: bool) -> None:
    assert is_question(text) is question
