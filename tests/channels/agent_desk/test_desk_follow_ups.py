"""A low survey score in the agents' group: supervisors are pinged and reopen the chat with a
button; agents cannot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.clock import FakeClock
from bot.domain.handoff import HandoffStatus
from bot.fake_telegram import FakeTelegramServer
from bot.storage.uow import Storage
from tests.surveys.world import DELAY, SurveyWorld

from .conftest import ALICE, SAM, Desk, start_desk


@pytest.fixture
async def desk(storage: Storage, clock: FakeClock, fake: FakeTelegramServer) -> AsyncIterator[Desk]:
    async for running in start_desk(storage, clock, fake, forum=True, surveys=True):
        yield running


async def _rated_one_of_five(desk: Desk) -> int:
    """Ann's chat with Alice is closed; Ann answers the CSAT survey with 1."""
    world = desk.world
    assert isinstance(world, SurveyWorld)
    agents = await world.sync_agents()
    await world.say("operator", name="Ann")
    await desk.pump()  # the topic opens while the chat is open
    handoff = await world.handoff_of()
    await world.act("take", handoff.id, agents["alice"])
    await world.act("reply", handoff.id, agents["alice"], "Done, anything else?")
    await world.act("close", handoff.id, agents["alice"])
    await world.drain()
    await desk.pump()
    desk.clock.advance(DELAY)
    assert len(await world.drain()) == 1  # the survey question
    [asked] = await world.responses()
    await world.say("1", callback_data=f"sv:{asked.id}:1")
    await desk.pump()
    return asked.id


async def test_a_supervisor_reopens_a_low_score_from_the_alert(desk: Desk) -> None:
    response_id = await _rated_one_of_five(desk)
    button = f"d:re:{response_id}"
    alert = desk.with_button(button)
    assert alert.thread_id is None  # under the general chat's ping, where supervisors look
    assert "Low score 1/5" in alert.plain_text and "Press Reopen" in alert.plain_text

    refused = await desk.press(ALICE, button)
    await desk.updates()
    assert desk.answer(refused) == "Only a supervisor can reopen a chat."
    async with desk.world.storage.uow() as uow:
        assert not await uow.handoffs.open()  # nothing was reopened

    pressed = await desk.press(SAM, button)
    await desk.updates()
    assert desk.answer(pressed) == "The chat is back in the queue."
    async with desk.world.storage.uow() as uow:
        [reopened] = await uow.handoffs.open()
    assert reopened.status in (HandoffStatus.QUEUED, HandoffStatus.OFFERED)
    assert reopened.summary == "low score follow-up"
    with pytest.raises(AssertionError):
        desk.with_button(button)  # the button is gone once used
    async with desk.world.storage.uow() as uow:
        response = await uow.surveys.get(response_id)
        sam = await uow.agents.get_by_key("sam")
    assert response is not None and response.reopened_at is not None
    assert sam is not None and response.reopened_by == sam.id
