"""A survey after an agent closes a chat: once, after the delay, never to whom it must not go."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.model import OutboundKind
from bot.domain.surveys import SurveyKind, SurveyStatus
from bot.surveys.service import SurveyRules
from tests.handoff.scenario import policy_from
from tests.surveys.world import ALWAYS_OPEN, DELAY, SurveyWorld


@pytest.fixture
async def world(storage, clock) -> SurveyWorld:
    return SurveyWorld(storage, clock, policy_from(ALWAYS_OPEN))


async def test_a_closed_chat_gets_one_survey_after_the_delay(world: SurveyWorld) -> None:
    handoff = await world.closed_chat()
    closed_at = world.clock.now()

    [response] = await world.responses()
    assert response.status is SurveyStatus.SENT
    assert (response.survey_id, response.kind) == ("csat_after_chat", SurveyKind.CSAT)
    assert response.handoff_id == handoff.id
    assert response.conversation_id == handoff.conversation_id
    assert response.agent_id == handoff.agent_id and response.team == "support"
    assert response.sent_at == closed_at + DELAY
    assert response.expires_at == response.sent_at + timedelta(days=2)  # the file's expiry

    world.clock.advance(DELAY - timedelta(seconds=1))
    assert await world.drain() == []  # not before the delay
    world.clock.advance(timedelta(seconds=1))
    [question] = await world.drain()
    assert question.key == f"survey:{response.id}"
    assert question.kind is OutboundKind.SURVEY
    assert question.not_before == closed_at + DELAY
    assert question.text == "Ann, how would you rate your chat with Alice?"
    [row] = question.buttons
    assert [b.text for b in row] == ["1 😞", "2 🙁", "3 😐", "4 🙂", "5 😄"]
    assert [b.callback_data for b in row] == [f"sv:{response.id}:{n}" for n in range(1, 6)]
    assert all(len(b.callback_data.encode()) <= 64 for b in row if b.callback_data)


async def test_a_second_close_of_the_same_conversation_asks_nothing(world: SurveyWorld) -> None:
    first = await world.closed_chat(how="back_to_bot")  # the conversation stays open
    world.clock.advance(timedelta(minutes=1))
    second = await world.closed_chat()
    assert second.id != first.id and second.conversation_id == first.conversation_id
    [response] = await world.responses()
    assert response.handoff_id == first.id


async def test_a_contact_surveyed_recently_is_not_asked_again(world: SurveyWorld) -> None:
    await world.closed_chat()  # conversation closed: the next message opens a new one
    world.clock.advance(timedelta(days=6))
    await world.drain()
    await world.closed_chat()

    newest, first = await world.responses()
    assert first.status is SurveyStatus.SENT
    assert newest.status is SurveyStatus.SUPPRESSED
    assert newest.reason is not None and newest.reason.startswith("throttled")
    world.clock.advance(DELAY)
    assert await world.drain() == []  # nothing queued for the suppressed one


async def test_after_the_throttle_window_the_contact_is_asked_again(world: SurveyWorld) -> None:
    await world.closed_chat()
    world.clock.advance(timedelta(days=7, minutes=1))
    await world.drain()
    await world.closed_chat()
    assert [r.status for r in await world.responses()] == [SurveyStatus.SENT] * 2


async def test_an_opted_out_contact_gets_no_survey(world: SurveyWorld) -> None:
    await world.sync_agents()
    await world.say("/stop")
    handoff = await world.closed_chat()
    [response] = await world.responses()
    assert response.status is SurveyStatus.SUPPRESSED
    assert response.reason == "the contact opted out"
    assert response.handoff_id == handoff.id
    world.clock.advance(DELAY)
    assert [r for r in await world.drain() if r.kind is OutboundKind.SURVEY] == []


async def test_a_customer_who_left_or_an_idle_chat_is_not_surveyed(world: SurveyWorld) -> None:
    agents = await world.sync_agents()
    await world.say("operator")
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    world.clock.advance(timedelta(minutes=31))
    assert (await world.tick()).idle_closed == 1
    assert await world.responses() == []


async def test_no_after_close_survey_configured_asks_nothing(storage, clock) -> None:
    rules = SurveyRules(after_close=None)
    world = SurveyWorld(storage, clock, policy_from(ALWAYS_OPEN), rules=rules)
    await world.closed_chat()
    assert await world.responses() == []


@pytest.mark.parametrize("enabled", [True, False])
async def test_a_chat_the_bot_resolved_is_surveyed_only_when_asked(
    storage, clock, enabled: bool
) -> None:
    rules = SurveyRules(after_close_delay=DELAY, after_bot_resolved=enabled)
    world = SurveyWorld(storage, clock, policy_from(ALWAYS_OPEN), rules=rules)
    await world.say("hello")
    conversation = await world.conversation_of()
    for _ in range(2):  # a second "Yes, it helped" in the same chat asks nothing more
        async with world.storage.uow() as uow:
            await world.surveys.schedule_after_bot_resolved(
                uow, conversation.id, conversation.contact_id, world.clock.now()
            )
            await uow.commit()
    responses = await world.responses()
    assert len(responses) == (1 if enabled else 0)
    if enabled:
        assert responses[0].conversation_id == conversation.id
        assert responses[0].handoff_id is None and responses[0].agent_id is None
