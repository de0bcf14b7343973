"""The desk in a forum supergroup: one topic per customer, buttons and commands in it."""

from __future__ import annotations

import html
import logging

import pytest

from bot.domain.handoff import EventKind, HandoffStatus
from bot.domain.model import OutboundKind
from bot.fake_telegram import Fault

from .conftest import ALICE, BOB, DESK_TOKEN, GROUP_ID, MALLORY, SAM, TINA, Desk


async def _handed_off(desk: Desk, first: str = "my parcel is late") -> tuple[int, int]:
    """Ann writes, then asks for a person; the desk opens her topic. (hand-off id, thread id)"""
    await desk.world.say(first, name="Ann <b>&amp;</b>")
    await desk.world.say("operator please", name="Ann <b>&amp;</b>")
    await desk.world.drain()
    await desk.pump()
    handoff = await desk.world.handoff_of()
    assert handoff.desk_chat_id == GROUP_ID and handoff.desk_thread_id is not None
    return handoff.id, handoff.desk_thread_id


async def test_a_hand_off_opens_a_topic_with_summary_transcript_and_buttons(forum: Desk) -> None:
    hid, thread = await _handed_off(forum)
    [create] = forum.fake.calls("createForumTopic", DESK_TOKEN)
    assert create.params["name"] == "🔵 Ann <b>&amp;</b> · telegram"  # offered: blue; plain text
    summary, transcript, offered = forum.posts(thread)
    assert "Ann <b>&amp;</b> · telegram · hand-off #" in summary.plain_text  # escaped, shown as is
    assert "<b>&amp;amp;</b>" not in summary.text and "&lt;b&gt;" in summary.text
    assert "Reason: customer asked" in summary.plain_text
    assert "Team: support" in summary.plain_text
    assert "operator please" in summary.plain_text  # the hand-off's summary line
    buttons = [
        b["callback_data"] for row in (summary.reply_markup or {})["inline_keyboard"] for b in row
    ]
    assert buttons == [f"d:take:{hid}", f"d:tr:{hid}", f"d:close:{hid}", f"d:bot:{hid}"]
    assert "my parcel is late" in transcript.plain_text
    assert "operator please" in transcript.plain_text
    assert "🤖 Bot:" in transcript.plain_text  # the bot's answers, tags stripped
    assert offered.plain_text.startswith("🔵 Offered to ")
    mention = [e for e in offered.entities if e["type"] in ("text_link", "text_mention")]
    assert mention, "the agent the chat is offered to is mentioned"


async def test_customer_messages_are_mirrored_into_the_topic(forum: Desk) -> None:
    _, thread = await _handed_off(forum)
    await forum.world.say("hello? <script>", name="Ann <b>&amp;</b>")
    await forum.pump()
    last = forum.posts(thread)[-1]
    assert last.plain_text == "👤 Ann <b>&amp;</b>: hello? <script>"


async def test_an_agent_writing_in_the_topic_reaches_the_customer(forum: Desk) -> None:
    _, thread = await _handed_off(forum)
    before = len(forum.posts(thread))
    await forum.write(ALICE, "Hi Ann, I am on it", thread)
    assert await forum.updates() == 1
    rows = await forum.world.drain()
    assert [r.text for r in rows if r.kind is OutboundKind.AGENT] == ["Hi Ann, I am on it"]
    handoff = await forum.world.handoff_of()
    assert handoff.status is HandoffStatus.ACTIVE and handoff.agent_id is not None
    taken = [p.plain_text for p in forum.posts(thread)[before:]]
    assert taken == ["🟢 Alice took the chat."]  # the reply itself is not echoed back
    [rename] = forum.fake.calls("editForumTopic", DESK_TOKEN)
    assert rename.params["name"] == "🟢 Ann <b>&amp;</b> · telegram"
    assert handoff.desk_title == "🟢 Ann <b>&amp;</b> · telegram"
    async with forum.world.storage.uow() as uow:
        assert await uow.settings.get("agent_desk:offset") is not None


async def test_two_agents_press_take_at_once_one_wins_the_other_is_told(forum: Desk) -> None:
    hid, _ = await _handed_off(forum)
    first = await forum.press(ALICE, f"d:take:{hid}")
    second = await forum.press(BOB, f"d:take:{hid}")
    assert await forum.updates() == 2
    assert forum.answer(first) == "You took this chat."
    assert forum.answer(second) == "Alice already took this chat."
    taken = [e for e in await forum.world.events() if e.kind is EventKind.TAKEN]
    assert len(taken) == 1


async def test_a_non_agent_is_ignored_and_logged(
    forum: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    hid, thread = await _handed_off(forum)
    posts = len(forum.posts(anywhere=True))
    await forum.write(MALLORY, "give me the data", thread)
    await forum.write(MALLORY, "/close", thread)
    pressed = await forum.press(MALLORY, f"d:take:{hid}")
    with caplog.at_level(logging.WARNING, logger="bot.channels.agent_desk"):
        assert await forum.updates() == 3
    assert await forum.world.drain() == []
    assert (await forum.world.handoff_of()).status is HandoffStatus.OFFERED
    assert len(forum.posts(anywhere=True)) == posts
    assert forum.answer(pressed) == "Only the team's agents can use these buttons."
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum(f"user {MALLORY}" in w for w in warnings) == 3


async def test_note_stays_internal_and_commands_take_the_bot_name(forum: Desk) -> None:
    _, thread = await _handed_off(forum)
    await forum.write(ALICE, "/take@nudge_desk_bot", thread)
    await forum.write(ALICE, "/note VIP,\n  be nice", thread)
    await forum.updates()
    rows = await forum.world.drain()
    assert all("VIP" not in row.text for row in rows)  # only the "agent joined" notice
    [note] = [e for e in await forum.world.events() if e.kind is EventKind.NOTE]
    assert note.text == "VIP,\n  be nice" and note.data["via"] == "desk"  # lines kept
    told = forum.texts(thread)
    assert "You took this chat." in told
    assert "Note saved (the customer does not see it)." in told


async def test_canned_lists_names_and_sends_the_template(forum: Desk) -> None:
    _, thread = await _handed_off(forum)
    await forum.write(ALICE, "/canned", thread)
    await forum.updates()
    assert forum.texts(thread)[-1].startswith("Canned responses: ")
    assert "greeting" in forum.texts(thread)[-1]
    await forum.write(ALICE, "/canned greeting", thread)
    await forum.updates()
    rows = [r for r in await forum.world.drain() if r.kind is OutboundKind.AGENT]
    assert len(rows) == 1
    sent = [t for t in forum.texts(thread) if t.startswith("Sent: ")]
    assert sent == [f"Sent: {html.unescape(rows[0].text)}"]  # as the customer sees it
    await forum.write(ALICE, "/canned nope", thread)
    await forum.updates()
    assert forum.texts(thread)[-1].startswith("No canned response 'nope'")


async def test_close_turns_the_title_white_and_closes_the_topic(forum: Desk) -> None:
    hid, thread = await _handed_off(forum)
    await forum.write(BOB, "/take", thread)
    await forum.updates()
    pressed = await forum.press(BOB, f"d:close:{hid}")
    await forum.updates()
    assert forum.answer(pressed) is not None
    assert (await forum.world.handoff_of()).status is HandoffStatus.CLOSED
    names = [c.params["name"] for c in forum.fake.calls("editForumTopic", DESK_TOKEN)]
    assert names == ["🟢 Ann <b>&amp;</b> · telegram", "⚪ Ann <b>&amp;</b> · telegram"]
    assert forum.fake.world.group(GROUP_ID).topics[thread].closed
    assert forum.texts(thread)[-1].startswith("⚪ Bob closed the chat")


async def test_the_customers_next_hand_off_reopens_her_topic(forum: Desk) -> None:
    hid, thread = await _handed_off(forum)
    pressed = await forum.press(ALICE, f"d:bot:{hid}")
    await forum.updates()
    assert forum.answer(pressed)
    assert forum.fake.world.group(GROUP_ID).topics[thread].closed
    await forum.world.say("operator again", name="Ann <b>&amp;</b>")
    await forum.pump()
    again = await forum.world.handoff_of()
    assert again.id != hid and again.desk_thread_id == thread
    assert not forum.fake.world.group(GROUP_ID).topics[thread].closed
    assert len(forum.fake.calls("createForumTopic", DESK_TOKEN)) == 1


async def test_transfer_buttons_list_agents_and_teams(forum: Desk) -> None:
    hid, _ = await _handed_off(forum)
    shown = await forum.press(ALICE, f"d:tr:{hid}")
    await forum.updates()
    assert forum.answer(shown) == "Transfer to whom?"
    summary = forum.with_button(f"d:to:{hid}:bob")
    datas = [
        b["callback_data"] for row in (summary.reply_markup or {})["inline_keyboard"] for b in row
    ]
    assert f"d:to:{hid}:alice" not in datas and f"d:to:{hid}:support" in datas
    moved = await forum.press(ALICE, f"d:to:{hid}:bob")
    await forum.updates()
    assert forum.answer(moved) is not None
    transferred = [e for e in await forum.world.events() if e.kind is EventKind.TRANSFERRED]
    assert transferred and transferred[0].data["to"] == "bob"
    assert forum.with_button(f"d:take:{hid}") is summary  # the controls are back


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_flood_wait_on_create_forum_topic_is_waited_out(forum: Desk) -> None:
    forum.fake.inject_fault("createForumTopic", Fault.retry_after(7))
    await _handed_off(forum)
    creates = forum.fake.calls("createForumTopic", DESK_TOKEN)
    assert [c.status for c in creates] == [429, 200]
    assert any(s >= 7 for s in forum.slept)  # waited (on the fake clock) before trying again
    assert len(forum.fake.world.group(GROUP_ID).topics) == 1


async def test_group_rate_limit_holds_over_many_posts(forum: Desk) -> None:
    _, thread = await _handed_off(forum)
    for n in range(25):
        await forum.world.say(f"message {n}", name="Ann <b>&amp;</b>")
    await forum.pump()
    assert forum.texts(thread)[-1].endswith("message 24")
    # Posts are spaced on the fake clock: at most 20 a minute, one a second.
    assert sum(forum.slept) >= 25


async def test_trainee_reply_is_held_and_a_supervisor_approves_it(forum: Desk) -> None:
    _, thread = await _handed_off(forum)
    await forum.write(TINA, "Hello from Tina", thread)
    await forum.updates()
    [held] = [e for e in await forum.world.events() if e.kind is EventKind.REPLY_HELD]
    held_id = held.data["held_id"]
    held_post = forum.with_button(f"d:ok:{held_id}")
    assert held_post.thread_id == thread
    assert "Tina (trainee) wants to send:\nHello from Tina" in held_post.plain_text
    assert [r for r in await forum.world.drain() if r.kind is OutboundKind.AGENT] == []
    refused = await forum.press(ALICE, f"d:ok:{held_id}")
    await forum.updates()
    assert forum.answer(refused) == "Only a supervisor can approve replies."
    pressed = await forum.press(SAM, f"d:ok:{held_id}")
    await forum.updates()
    assert forum.answer(pressed) == "Sent Tina's reply."
    rows = [r for r in await forum.world.drain() if r.kind is OutboundKind.AGENT]
    assert [r.text for r in rows] == ["Hello from Tina"]
    assert held_post.reply_markup is None  # Approve / Reject are gone once decided
    assert "👍 Sam approved the held reply." in forum.texts(thread)


async def test_a_supervisor_edits_a_held_reply(forum: Desk) -> None:
    _, thread = await _handed_off(forum)
    await forum.write(TINA, "Helo from Tina", thread)
    await forum.updates()
    [held] = [e for e in await forum.world.events() if e.kind is EventKind.REPLY_HELD]
    await forum.write(SAM, f"/edit {held.data['held_id']} Hello from Tina", thread)
    await forum.updates()
    rows = [r for r in await forum.world.drain() if r.kind is OutboundKind.AGENT]
    assert [r.text for r in rows] == ["Hello from Tina"]
    assert "Sent Tina's reply." in forum.texts(thread)
