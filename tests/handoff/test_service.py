"""The hand-off on real storage: triggers, queue, offers, take, reply, quiet bot, close, back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.handoff import (
    CloseReason,
    EventKind,
    HandoffReason,
    HandoffStatus,
    HeldReplyStatus,
)
from bot.domain.model import ConversationStatus, OutboundKind
from bot.handoff.actions import Outcome
from tests.handoff.scenario import AGENTS, World, policy_from

ALWAYS_OPEN = {"agents": AGENTS, "offer_timeout_seconds": 60, "idle_close_minutes": 30}


@pytest.fixture
async def world(storage, clock) -> World:
    return World(storage, clock, policy_from(ALWAYS_OPEN))


async def test_asking_for_a_person_queues_offers_and_tells_the_customer(world: World) -> None:
    agents = await world.sync_agents()
    [notice] = await world.say("Can I talk to an operator please?")
    assert "connecting you with a person" in notice.text
    assert notice.kind is OutboundKind.SYSTEM
    handoff = await world.handoff_of()
    assert handoff.reason is HandoffReason.CUSTOMER_ASKED
    assert handoff.status is HandoffStatus.OFFERED
    assert handoff.agent_id in {agents["alice"].id, agents["bob"].id}
    assert handoff.summary == "Can I talk to an operator please?"
    assert (await world.conversation_of()).status is ConversationStatus.WAITING_FOR_AGENT
    kinds = [e.kind for e in await world.events()]
    assert kinds == [EventKind.HANDOFF_REQUESTED, EventKind.OFFERED]


@pytest.mark.parametrize("text", ["/human", "оператор", "operator uman", "상담원 연결해 주세요"])
async def test_every_language_and_the_command_reach_a_person(world: World, text: str) -> None:
    await world.sync_agents()
    await world.say(text)
    assert (await world.handoff_of()).reason is HandoffReason.CUSTOMER_ASKED


async def test_the_button_reaches_a_person(world: World) -> None:
    await world.sync_agents()
    await world.say("Talk to a person", callback_data="hf:person")
    assert (await world.handoff_of()).status is HandoffStatus.OFFERED


async def test_full_round_take_reply_quiet_bot_close_and_bot_again(world: World) -> None:
    agents = await world.sync_agents()
    alice = agents["alice"]
    await world.say("operator")
    handoff = await world.handoff_of()
    taken = await world.act("take", handoff.id, alice)
    assert taken.outcome is Outcome.OK
    [joined] = await world.drain()
    assert "Alice from our team has joined" in joined.text
    assert (await world.conversation_of()).status is ConversationStatus.WITH_AGENT

    sent = await world.act("reply", handoff.id, alice, "Hi Ann, <b>sure</b> & welcome")
    assert sent.outcome is Outcome.OK
    [reply] = await world.drain()
    assert reply.kind is OutboundKind.AGENT
    assert reply.text == "Hi Ann, &lt;b&gt;sure&lt;/b&gt; &amp; welcome"

    assert await world.say("where is my parcel?") == []  # the bot says nothing
    events = await world.events()
    assert events[-1].kind is EventKind.CUSTOMER_MESSAGE
    assert events[-1].text == "where is my parcel?"
    assert (await world.handoff_of()).first_response_at is not None

    closed = await world.act("close", handoff.id, alice)
    assert closed.outcome is Outcome.OK
    [goodbye] = await world.drain()
    assert "conversation is closed" in goodbye.text
    ended = await world.handoff_of()
    assert ended.status is HandoffStatus.CLOSED
    assert ended.close_reason is CloseReason.CLOSED and ended.closed_by == alice.id

    [answer] = await world.say("hello again")
    assert answer.kind is OutboundKind.REPLY  # the bot answers in a new conversation
    kinds = [e.kind for e in await world.events()]
    assert kinds == []  # the new conversation has had no person in it


async def test_two_agents_press_take_at_once_one_wins(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    results = await asyncio.gather(
        world.act("take", handoff.id, agents["alice"]),
        world.act("take", handoff.id, agents["bob"]),
    )
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["already_taken", "ok"]
    loser = next(r for r in results if r.outcome is Outcome.ALREADY_TAKEN)
    winner = "Alice" if loser.message.startswith("Alice") else "Bob"
    assert loser.message == f"{winner} already took this chat."
    taken = [e for e in await world.events() if e.kind is EventKind.TAKEN]
    assert len(taken) == 1


async def test_another_agent_cannot_reply_or_close_but_a_supervisor_can(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    refused = await world.act("reply", handoff.id, agents["bob"], "let me")
    assert refused.outcome is Outcome.NOT_ALLOWED and refused.message == "This chat is Alice's."
    assert (await world.act("close", handoff.id, agents["bob"])).outcome is Outcome.NOT_ALLOWED
    assert (await world.act("reply", handoff.id, agents["sam"], "Supervisor here")).ok


async def test_replying_to_a_waiting_chat_takes_it(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    assert (await world.act("reply", handoff.id, agents["bob"], "Hello!")).ok
    assert (await world.handoff_of()).agent_id == agents["bob"].id


async def test_notes_never_reach_the_customer(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    await world.drain()
    handoff = await world.handoff_of()
    result = await world.act("note", handoff.id, agents["alice"], "angry, offer 10%")
    assert result.outcome is Outcome.OK
    assert await world.drain() == []
    assert (await world.events())[-1].text == "angry, offer 10%"


async def test_canned_responses_render_with_the_contact_and_agent(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator", name="<i>Ann</i>")
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    await world.drain()
    assert "greeting" in world.handoff.canned_names()
    assert (await world.act("canned", handoff.id, agents["alice"], "greeting")).ok
    [reply] = await world.drain()
    assert reply.text.startswith("Hello &lt;i&gt;Ann&lt;/i&gt;, this is Alice")
    missing = await world.act("canned", handoff.id, agents["alice"], "nope")
    assert missing.outcome is Outcome.UNKNOWN_TEMPLATE and "greeting" in missing.message


async def test_back_to_bot_keeps_the_conversation_open(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    assert (await world.act("back_to_bot", handoff.id, agents["alice"])).ok
    conversation = await world.conversation_of()
    assert conversation.status is ConversationStatus.BOT
    assert conversation.id == handoff.conversation_id
    assert [e.kind for e in await world.events()][-1] is EventKind.RETURNED_TO_BOT


async def test_an_offer_not_taken_in_time_goes_to_the_next_agent(world: World) -> None:
    await world.sync_agents()
    await world.say("operator")
    first = await world.handoff_of()
    world.clock.advance(timedelta(seconds=61))
    report = await world.tick()
    assert report.expired == 1
    second = await world.handoff_of()
    assert second.status is HandoffStatus.OFFERED
    assert second.agent_id not in (None, first.agent_id)
    assert second.declined_by == [first.agent_id]
    kinds = [e.kind for e in await world.events()]
    assert kinds[-2:] == [EventKind.OFFER_EXPIRED, EventKind.OFFERED]


async def test_least_busy_agent_gets_the_next_chat(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator", user=1)
    first = await world.handoff_of(1)
    await world.act("take", first.id, agents[_key_of(agents, first.agent_id)])
    await world.say("operator", user=2)
    second = await world.handoff_of(2)
    assert second.agent_id != first.agent_id


async def test_transfer_to_a_team_and_to_an_agent(storage, clock) -> None:
    config = {**ALWAYS_OPEN, "teams": {"support": {}, "billing": {}}}
    config["agents"] = [*AGENTS, {"key": "bill", "name": "Bill", "teams": ["billing"]}]
    world = World(storage, clock, policy_from(config))
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    moved = await world.act("transfer", handoff.id, agents["alice"], "billing")
    assert moved.ok and moved.message == "Transferred to team billing."
    now = await world.handoff_of()
    assert now.team == "billing" and now.agent_id == agents["bill"].id
    back = await world.act("transfer", handoff.id, agents["sam"], "bob")
    assert back.ok and (await world.handoff_of()).agent_id == agents["bob"].id
    unknown = await world.act("transfer", handoff.id, agents["sam"], "nobody")
    assert unknown.outcome is Outcome.UNKNOWN_TARGET


async def test_a_trainee_reply_waits_for_approval(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    await world.drain()
    handoff = await world.handoff_of()
    held = await world.act("reply", handoff.id, agents["tina"], "we will refund u")
    assert held.outcome is Outcome.HELD and held.held is not None
    assert [r.text for r in await world.drain()] == [
        "Tina from our team has joined the chat."
    ]  # the draft did not go out
    refused = await world.act("approve", held.held.id, agents["alice"])
    assert refused.outcome is Outcome.NOT_ALLOWED
    approved = await world.act("approve", held.held.id, agents["sam"], "We will refund you.")
    assert approved.ok
    [sent] = await world.drain()
    assert sent.text == "We will refund you." and sent.kind is OutboundKind.AGENT
    again = await world.act("approve", held.held.id, agents["sam"])
    assert again.outcome is Outcome.ALREADY_TAKEN
    async with world.storage.uow() as uow:
        stored = await uow.held_replies.get(held.held.id)
    assert stored is not None and stored.status is HeldReplyStatus.APPROVED
    assert stored.decided_by == agents["sam"].id


async def test_a_rejected_trainee_reply_is_not_sent(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    held = await world.act("reply", handoff.id, agents["tina"], "lol no")
    await world.drain()
    assert held.held is not None
    assert (await world.act("reject", held.held.id, agents["sam"])).ok
    assert await world.drain() == []
    assert (await world.events())[-1].kind is EventKind.REPLY_REJECTED


async def test_an_idle_chat_goes_back_to_the_bot(world: World) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    world.clock.advance(timedelta(minutes=29))
    assert (await world.tick()).idle_closed == 0
    world.clock.advance(timedelta(minutes=2))
    assert (await world.tick()).idle_closed == 1
    ended = await world.handoff_of()
    assert ended.close_reason is CloseReason.IDLE and ended.closed_by is None
    assert (await world.conversation_of()).status is ConversationStatus.BOT


async def test_a_complaint_is_handed_off_ahead_of_the_queue(storage, clock) -> None:
    world = World(storage, clock, policy_from({"priority": {"complaint": 10}}))  # no agents
    await world.say("operator", user=1)
    await world.say("This is a scam, terrible service!", user=2)
    calm, angry = await world.handoff_of(1), await world.handoff_of(2)
    assert angry.reason is HandoffReason.COMPLAINT and angry.priority == 10
    assert calm.priority == 0
    async with world.storage.uow() as uow:
        queue = await uow.handoffs.queued()
    assert [h.id for h in queue] == [angry.id, calm.id]


async def test_a_vip_tag_hands_off_first_with_a_tighter_sla(storage, clock) -> None:
    config = {
        "triggers": {"tags": ["vip"]},
        "priority": {"tags": {"vip": 20}},
        "teams": {"support": {"first_response_minutes": 30}},
        "sla_by_tag": {"vip": 5},
    }
    world = World(storage, clock, policy_from(config))
    await world.say("hi", user=3)  # becomes a contact
    async with world.storage.uow() as uow:
        identity = await uow.identities.find(_tg(), "3")
        assert identity is not None
        contact = await uow.contacts.get(identity.contact_id)
        assert contact is not None
        contact.attributes["tags"] = ["vip"]
        await uow.contacts.update(contact)
        await uow.commit()
    await world.say("my order?", user=3)
    handoff = await world.handoff_of(3)
    assert handoff.reason is HandoffReason.TAG and handoff.priority == 20
    assert handoff.sla_due_at == world.clock.now() + timedelta(minutes=5)
    world.clock.advance(timedelta(minutes=6))
    assert (await world.tick()).breached == 1
    assert (await world.tick()).breached == 0  # alerted once
    breach = (await world.events(3))[-1]
    assert breach.kind is EventKind.SLA_BREACHED and breach.data["minutes_late"] == 1


async def test_outside_working_hours_the_customer_is_told_when(storage) -> None:
    from bot.domain.clock import FakeClock

    # Friday 2026-01-09 19:00 in Chisinau (UTC+2) is 17:00 UTC: the team is gone until Monday.
    clock = FakeClock(datetime(2026, 1, 9, 17, 0, tzinfo=UTC))
    hours = {"timezone": "Europe/Chisinau", "hours": {"mon-fri": "09:00-18:00"}}
    config = {**ALWAYS_OPEN, "teams": {"support": hours}}
    world = World(storage, clock, policy_from(config))
    await world.sync_agents()
    [notice] = await world.say("operator")
    assert "on Monday at 09:00 (Europe/Chisinau time)" in notice.text
    handoff = await world.handoff_of()
    assert handoff.status is HandoffStatus.QUEUED
    clock.advance(timedelta(days=2, hours=15, minutes=1))  # Monday 09:01 local
    assert (await world.tick()).offered == 1
    assert (await world.handoff_of()).status is HandoffStatus.OFFERED


async def test_russian_after_hours_notice(storage) -> None:
    from bot.domain.clock import FakeClock

    clock = FakeClock(datetime(2026, 1, 8, 20, 0, tzinfo=UTC))  # Thursday 22:00 local
    hours = {"timezone": "Europe/Chisinau", "hours": {"mon-fri": "09:00-18:00"}}
    world = World(storage, clock, policy_from({"teams": {"support": hours}}))
    [notice] = await world.say("оператор", lang="ru")
    assert "завтра в 09:00" in notice.text


async def test_asking_again_while_waiting_reminds_once_per_message(world: World) -> None:
    await world.say("operator")  # no agents synced: stays queued
    [reminder] = await world.say("operator!!")
    assert "You are in the queue" in reminder.text
    async with world.storage.uow() as uow:
        assert len(await uow.handoffs.queued()) == 1


async def test_blocking_the_bot_ends_the_hand_off(world: World) -> None:
    from bot.domain.inbound import InboundEvent, InboundKind, Sender

    await world.say("operator")
    sender = Sender(_tg(), "7", "7", "Ann", None, "en")
    async with world.storage.uow() as uow:
        await world.conversation.handle(uow, InboundEvent("tg:block", sender, InboundKind.BLOCKED))
        await uow.commit()
    ended = await world.handoff_of()
    assert ended.close_reason is CloseReason.CUSTOMER_LEFT
    assert await world.drain() == []  # nobody to tell


async def test_two_failed_answers_hand_off_and_not_helpful_too(storage, clock) -> None:
    world = World(storage, clock, policy_from({}), with_kb=True)
    [first] = await world.say("zxqv blorp fnord")
    assert "put it another way" in first.text and first.buttons[0][0].callback_data == "hf:person"
    replies = await world.say("qwpo lkmn vbzx")
    assert replies[0].text.startswith("I am not sure I know the answer")
    assert "connecting you with a person" in replies[-1].text
    assert (await world.handoff_of()).reason is HandoffReason.BOT_FAILED

    answer = await world.say("How long does delivery take?", user=8)
    feedback = answer[-1].buttons[0][1].callback_data
    assert feedback is not None and feedback.startswith("kb:n:")
    replies = await world.say("No", user=8, callback_data=feedback)
    assert replies[0].text == "Sorry that did not help."
    assert (await world.handoff_of(8)).reason is HandoffReason.NOT_HELPFUL


async def test_a_trigger_switched_off_offers_the_button_instead(storage, clock) -> None:
    config = {"triggers": {"not_helpful": False, "failed_answers": 0}}
    world = World(storage, clock, policy_from(config), with_kb=True)
    for text in ("zxqv blorp fnord", "qwpo lkmn vbzx", "ghjk trew"):
        [reply] = await world.say(text)
        assert reply.buttons[0][0].callback_data == "hf:person"
    answer = await world.say("How long does delivery take?")
    feedback = answer[-1].buttons[0][1].callback_data
    replies = await world.say("No", callback_data=feedback)
    assert [r.buttons[0][0].callback_data for r in replies[1:]] == ["hf:person"]
    async with world.storage.uow() as uow:
        assert await uow.handoffs.queued() == []


def _key_of(agents: dict, agent_id: int | None) -> str:
    return next(key for key, agent in agents.items() if agent.id == agent_id)


def _tg():
    from bot.domain.model import Channel

    return Channel.TELEGRAM


async def test_hand_offs_and_closes_are_published_to_the_webhooks(world: World) -> None:
    published: list[tuple[str, str | None]] = []

    async def publish(uow, type, payload, at, *, key=None):  # type: ignore[no-untyped-def]
        published.append((type, key))
        return 1

    world.handoff.publish = publish
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    await world.act("close", handoff.id, agents["alice"])
    assert published == [
        ("conversation.handed_off", f"conversation.handed_off:{handoff.id}"),
        ("conversation.closed", f"conversation.closed:{handoff.id}"),
    ]
