"""Answers on real storage, through the conversation service: scores, comments, alerts,
the supervisors' reopen, stale and forged buttons, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.handoff import EventKind, HandoffReason, HandoffStatus
from bot.domain.model import ConversationStatus
from bot.domain.surveys import SurveyResponse, SurveyStatus
from bot.handoff.actions import Outcome
from bot.surveys.service import FOLLOW_UP_SUMMARY, LOW_SCORE_EVENT
from tests.handoff.scenario import policy_from
from tests.surveys.world import ALWAYS_OPEN, DELAY, SurveyWorld


@pytest.fixture
async def world(storage, clock) -> SurveyWorld:
    return SurveyWorld(storage, clock, policy_from(ALWAYS_OPEN))


async def _asked(world: SurveyWorld, **say: object) -> SurveyResponse:
    """A closed chat whose survey question went out."""
    await world.closed_chat(**say)
    world.clock.advance(DELAY)
    assert len(await world.drain()) == 1
    [response] = await world.responses()
    return response


async def _press(world: SurveyWorld, response: SurveyResponse, score: int) -> list[str]:
    rows = await world.say(f"{score}", callback_data=f"sv:{response.id}:{score}")
    return [row.text for row in rows]


async def test_a_press_stores_the_score_with_the_agent_and_team(world: SurveyWorld) -> None:
    response = await _asked(world)
    world.clock.advance(timedelta(minutes=3))

    assert await _press(world, response, 5) == ["Thank you for your feedback!"]

    [answered] = await world.responses()
    agents = await world.sync_agents()
    assert answered.status is SurveyStatus.ANSWERED
    assert (answered.score, answered.answered_at) == (5, world.clock.now())
    assert (answered.agent_id, answered.team) == (agents["alice"].id, "support")
    assert not answered.low_score and not answered.follow_up_pending
    [(kind, payload, key)] = world.published
    assert (kind, key) == ("survey.answered", f"survey.answered:{response.id}")
    assert payload["score"] == 5 and payload["agent"] == "alice" and payload["team"] == "support"
    assert payload["conversation_id"] == response.conversation_id


async def test_the_first_press_wins_and_a_second_is_answered_politely(world: SurveyWorld) -> None:
    response = await _asked(world)
    await _press(world, response, 4)
    assert await _press(world, response, 1) == ["You have already rated this chat. Thank you!"]
    [answered] = await world.responses()
    assert answered.score == 4 and not answered.low_score
    assert len(world.published) == 1


async def test_thanks_come_in_the_contacts_language(world: SurveyWorld) -> None:
    response = await _asked(world, lang="ru", name="Аня")
    assert await _press(world, response, 4) == ["Спасибо за отзыв!"]


async def test_a_low_score_asks_why_alerts_and_takes_the_comment(world: SurveyWorld) -> None:
    response = await _asked(world)

    assert await _press(world, response, 2) == [
        "We are sorry to hear that. What could we have done better? Reply with one message."
    ]
    [answered] = await world.responses()
    assert answered.low_score and answered.follow_up_pending and answered.awaiting_comment
    async with world.storage.uow() as uow:
        events = await uow.events.for_conversation(response.conversation_id or 0)
    alert = events[-1]
    assert alert.kind is LOW_SCORE_EVENT
    assert alert.handoff_id == response.handoff_id
    assert alert.data["alert"] == "low_score" and alert.data["score"] == 2
    assert alert.text == "Low score 2/5 in the survey csat_after_chat"

    world.clock.advance(timedelta(minutes=2))
    replies = await world.say("Alice took ages & never <b>answered</b> my question")
    assert [r.text for r in replies] == ["Thank you for your feedback!"]  # not the bot's answer
    [commented] = await world.responses()
    assert commented.comment == "Alice took ages & never <b>answered</b> my question"
    assert commented.commented_at == world.clock.now() and not commented.awaiting_comment
    async with world.storage.uow() as uow:
        events = await uow.events.for_conversation(response.conversation_id or 0)
    assert events[-1].kind is LOW_SCORE_EVENT and events[-1].data["comment"] == commented.comment
    assert events[-1].text == (
        "Low score 2/5 in the survey csat_after_chat; the customer wrote: " + commented.comment
    )

    later = await world.say("hello again")  # only one message is the comment
    assert later and later[0].text != "Thank you for your feedback!"  # the bot's fallback
    assert (await world.responses())[0].comment == commented.comment


async def test_reopen_puts_the_chat_back_in_the_queue(world: SurveyWorld) -> None:
    agents = await world.sync_agents()
    response = await _asked(world)
    await _press(world, response, 1)

    async with world.storage.uow() as uow:
        refused = await world.surveys.reopen(uow, response.id, agents["alice"])
        assert [r.id for r in await world.surveys.pending_follow_ups(uow)] == [response.id]
        reopened = await world.surveys.reopen(uow, response.id, agents["sam"])
        again = await world.surveys.reopen(uow, response.id, agents["sam"])
        await uow.commit()

    assert refused.outcome is Outcome.NOT_ALLOWED
    assert reopened.outcome is Outcome.OK and reopened.handoff is not None
    assert again.outcome is Outcome.ALREADY_TAKEN
    handoff = await world.handoff_of()
    assert handoff.id == reopened.handoff.id
    assert handoff.reason is HandoffReason.AGENT and handoff.summary == FOLLOW_UP_SUMMARY
    assert handoff.status in (HandoffStatus.QUEUED, HandoffStatus.OFFERED)
    conversation = await world.conversation_of()
    assert conversation.status is ConversationStatus.WAITING_FOR_AGENT
    [done] = await world.responses()
    assert not done.follow_up_pending and not done.awaiting_comment
    assert (done.reopened_at, done.reopened_by) == (world.clock.now(), agents["sam"].id)
    events = await world.events()
    assert events[-2].kind is EventKind.HANDOFF_REQUESTED

    # The customer's next message now goes to the agents, not into the survey.
    await world.say("I still need help")
    assert (await world.events())[-1].kind is EventKind.CUSTOMER_MESSAGE


@pytest.mark.parametrize(
    "data",
    ["sv:{id}:9", "sv:{id}:0", "sv:999999:3", "sv:{id}:", "sv:x:3", "sv:{id}:3:extra", "sv:-1:3"],
)
async def test_forged_buttons_are_ignored(world: SurveyWorld, data: str) -> None:
    response = await _asked(world)
    rows = await world.say("?", callback_data=data.format(id=response.id))
    assert rows == []
    [untouched] = await world.responses()
    assert untouched.status is SurveyStatus.SENT and untouched.score is None


async def test_another_contacts_button_is_ignored(world: SurveyWorld) -> None:
    response = await _asked(world)
    rows = await world.say("5", user=8, name="Eve", callback_data=f"sv:{response.id}:5")
    assert rows == []
    assert (await world.responses())[0].status is SurveyStatus.SENT


async def test_unanswered_surveys_expire_and_stale_buttons_are_ignored(world: SurveyWorld) -> None:
    response = await _asked(world)
    world.clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert await world.expire() == 0
    world.clock.advance(timedelta(seconds=1))
    assert await _press(world, response, 5) == []  # past expires_at: stale even before the sweep
    assert await world.expire() == 1
    assert await world.expire() == 0
    [expired] = await world.responses()
    assert expired.status is SurveyStatus.EXPIRED and expired.score is None
    assert world.published == []


async def test_the_wait_for_a_comment_ends_with_the_expiry(world: SurveyWorld) -> None:
    response = await _asked(world)
    await _press(world, response, 1)
    world.clock.advance(timedelta(days=2))
    await world.expire()
    [answered] = await world.responses()
    assert answered.status is SurveyStatus.ANSWERED and not answered.awaiting_comment
    assert answered.follow_up_pending  # the supervisors' flag stays until someone acts
    replies = await world.say("late comment")
    assert replies and replies[0].text != "Thank you for your feedback!"
    assert (await world.responses())[0].comment is None
