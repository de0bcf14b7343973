"""The desk running: refused posts, restarts, a first start, the polling loop, SLA alerts."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.domain.clock import FakeClock
from bot.domain.handoff import HandoffStatus
from bot.fake_telegram import FakeTelegramServer, Fault
from bot.storage.uow import Storage

from .conftest import DESK_TOKEN, GROUP_ID, Desk, start_desk


async def test_an_event_telegram_keeps_refusing_is_skipped_after_five_tries(
    forum: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    forum.fake.inject_fault("sendMessage", Fault.bad_request("message is too long"), times=5)
    with caplog.at_level(logging.ERROR, logger="bot.channels.agent_desk"):
        await forum.world.say("operator", name="Ann")
        await forum.pump()
    handoff = await forum.world.handoff_of()
    assert len(forum.fake.calls("createForumTopic", DESK_TOKEN)) == 1  # never a second topic
    assert [c.status for c in forum.fake.calls("sendMessage", DESK_TOKEN)][:5] == [400] * 5
    assert any("skipping event" in r.getMessage() for r in caplog.records)
    # The desk went on: the next event (the offer) is in the topic.
    assert forum.texts(handoff.desk_thread_id)[-1].startswith("🔵 Offered to ")
    async with forum.world.storage.uow() as uow:
        assert int(await uow.settings.get("agent_desk:cursor") or 0) > 0


async def test_a_restarted_desk_neither_repeats_posts_nor_updates(forum: Desk) -> None:
    await forum.world.say("operator", name="Ann")
    await forum.pump()
    hid = (await forum.world.handoff_of()).id
    await forum.press(1001, f"d:take:{hid}")
    await forum.updates()
    posts = len(forum.posts(anywhere=True))
    await forum.desk.stop()
    again = forum.another_desk()
    await again.start(poll=False)
    try:
        assert await again.handle_updates() == 0
        await again.pump.drain()
    finally:
        await again.stop()
    assert len(forum.posts(anywhere=True)) == posts


async def test_a_first_start_gives_open_hand_offs_their_topics(forum: Desk) -> None:
    await forum.desk.stop()
    await forum.world.say("operator", name="Ann")  # handed off while the desk was away
    async with forum.world.storage.uow() as uow:
        await uow.settings.delete("agent_desk:cursor")  # as if the desk had never run
        await uow.commit()
    fresh = forum.another_desk()
    await fresh.start(poll=False)
    try:
        await fresh.pump.drain()
    finally:
        await fresh.stop()
    handoff = await forum.world.handoff_of()
    assert handoff.desk_chat_id == GROUP_ID and handoff.desk_thread_id is not None
    texts = forum.texts(handoff.desk_thread_id)
    assert "hand-off #" in texts[0] and "operator" in texts[1]  # summary, transcript
    assert len(texts) == 2  # the events before the start are not replayed


async def test_the_polling_loop_handles_updates_as_they_come(forum: Desk) -> None:
    await forum.world.say("operator", name="Ann")
    await forum.pump()
    thread = (await forum.world.handoff_of()).desk_thread_id
    await forum.desk.stop()
    running = forum.another_desk()
    await running.start(poll=True)
    try:
        before = len(forum.posts(anywhere=True))
        await forum.write(1001, "/canned", thread)
        sent = await forum.fake.wait_for_messages(DESK_TOKEN, before + 1, chat_id=GROUP_ID)
        assert sent[-1].plain_text.startswith("Canned responses: ")
        await forum.fake.wait_for_updates_confirmed(DESK_TOKEN, 1)
    finally:
        await running.stop()
    async with forum.world.storage.uow() as uow:
        offset = await uow.settings.get("agent_desk:offset")
    assert offset is not None and int(offset) > 0


async def test_an_sla_breach_alerts_supervisors_in_the_topic_and_the_general_chat(
    storage: Storage, clock: FakeClock, fake: FakeTelegramServer
) -> None:
    teams = {"teams": {"support": {"first_response_minutes": 5}}}
    async for desk in start_desk(storage, clock, fake, forum=True, handoff=teams):
        await desk.world.say("operator", name="Ann")
        await desk.pump()
        thread = (await desk.world.handoff_of()).desk_thread_id
        clock.advance(timedelta(minutes=6))
        await desk.world.tick()
        await desk.pump()
        [in_topic] = [m for m in desk.posts(thread) if m.plain_text.startswith("🚨")]
        [in_general] = [m for m in desk.posts(None) if m.plain_text.startswith("🚨")]
        assert in_topic.plain_text == in_general.plain_text
        assert "Sam: Ann (hand-off #" in in_general.plain_text
        assert 'href="tg://user?id=1009"' in in_general.text  # supervisors are pinged
        # An agent replying to the alert in the general chat acts on that hand-off.
        await desk.write(1001, "/take", reply_to=in_general)
        await desk.updates()
        assert (await desk.world.handoff_of()).status is HandoffStatus.ACTIVE


async def test_a_low_survey_score_pings_supervisors_in_the_topic_and_the_general_chat(
    forum: Desk,
) -> None:
    from bot.domain.handoff import EventKind

    await forum.world.say("operator", name="Ann")
    await forum.pump()
    handoff = await forum.world.handoff_of()
    async with forum.world.storage.uow() as uow:
        await uow.events.add(
            handoff.conversation_id, EventKind.LOW_SCORE, forum.clock.now(), handoff.id,
            text="Ann rated the chat 1 of 5 <b>rude</b>.",
        )  # fmt: skip
        await uow.commit()
    await forum.pump()
    [in_topic] = [m for m in forum.posts(handoff.desk_thread_id) if m.plain_text.startswith("⚠️")]
    [in_general] = [m for m in forum.posts(None) if m.plain_text.startswith("⚠️")]
    assert in_topic.plain_text == in_general.plain_text
    assert "Ann rated the chat 1 of 5 <b>rude</b>." in in_general.plain_text  # escaped, shown
    assert 'href="tg://user?id=1009"' in in_general.text  # Sam, the supervisor
