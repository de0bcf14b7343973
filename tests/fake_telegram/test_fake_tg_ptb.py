"""The real python-telegram-bot client against the fake server: topics, messages, errors."""

from __future__ import annotations

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from bot.fake_telegram import FakeTelegramServer, FakeUser, Fault

TOKEN = "123:ABC"  # the fixtures in conftest.py register these
ANN_ID = 1001
GROUP_ID = -100123


async def test_get_me_and_initialize(ptb_bot: telegram.Bot) -> None:
    me = await ptb_bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123, "nudge_bot", True)
    assert ptb_bot.username == "nudge_bot"  # set by initialize() through getMe


async def test_messages_edits_and_callbacks(
    server: FakeTelegramServer, ptb_bot: telegram.Bot, ann: FakeUser
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Take", callback_data="take:1")]])
    message = await ptb_bot.send_message(
        ANN_ID, "<u>New</u> ticket", parse_mode="HTML", reply_markup=keyboard
    )
    assert message.text == "New ticket" and message.text_html == "<u>New</u> ticket"
    edited = await ptb_bot.edit_message_text(
        "Taken", chat_id=ANN_ID, message_id=message.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, telegram.Message) and edited.text == "Taken"
    update = await server.press_button(TOKEN, ann, server.sent_messages(TOKEN)[0], "take:1")
    [received] = await ptb_bot.get_updates(offset=update["update_id"])
    assert received.callback_query is not None
    assert await received.callback_query.answer("Done")
    assert await ptb_bot.delete_message(ANN_ID, message.message_id)
    [sent] = server.sent_messages(TOKEN, ANN_ID)
    assert sent.edits == ["Taken"] and sent.deleted


async def test_forum_topic_lifecycle(server: FakeTelegramServer, ptb_bot: telegram.Bot) -> None:
    server.add_group(GROUP_ID, "Agents", is_forum=True)
    server.add_group(-100999, "Plain group")
    topic = await ptb_bot.create_forum_topic(GROUP_ID, "Ticket #1 — Ann")
    assert topic.name == "Ticket #1 — Ann" and topic.message_thread_id > 0

    message = await ptb_bot.send_message(
        GROUP_ID, "Customer wrote: hi", message_thread_id=topic.message_thread_id
    )
    assert message.is_topic_message and message.message_thread_id == topic.message_thread_id
    assert message.chat.is_forum and message.chat.type == "supergroup"
    [sent] = server.sent_messages(TOKEN, GROUP_ID)
    assert sent.thread_id == topic.message_thread_id

    assert await ptb_bot.edit_forum_topic(GROUP_ID, topic.message_thread_id, name="Ticket #1")
    assert await ptb_bot.close_forum_topic(GROUP_ID, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)topic_not_modified"):
        await ptb_bot.close_forum_topic(GROUP_ID, topic.message_thread_id)
    assert await ptb_bot.reopen_forum_topic(GROUP_ID, topic.message_thread_id)
    assert await ptb_bot.delete_forum_topic(GROUP_ID, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await ptb_bot.send_message(GROUP_ID, "late", message_thread_id=topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await ptb_bot.create_forum_topic(-100999, "Nope")


async def test_agent_writes_in_topic_and_bot_reads_it(
    server: FakeTelegramServer, ptb_bot: telegram.Bot
) -> None:
    group = server.add_group(GROUP_ID, "Agents", is_forum=True)
    agent = server.add_user(3003, "Agent Smith")
    topic = await ptb_bot.create_forum_topic(GROUP_ID, "Ticket #2")
    await server.send_text(TOKEN, agent, "on it", chat=group, thread_id=topic.message_thread_id)
    [update] = await ptb_bot.get_updates()
    assert update.message is not None and update.message.text == "on it"
    assert update.message.message_thread_id == topic.message_thread_id
    member = await ptb_bot.get_chat_member(GROUP_ID, agent.id)
    assert member.status == "member"
    chat = await ptb_bot.get_chat(GROUP_ID)
    assert chat.is_forum and chat.title == "Agents"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_faults_as_seen_by_ptb(
    server: FakeTelegramServer, ptb_bot: telegram.Bot, ann: FakeUser
) -> None:
    server.inject_fault("sendMessage", Fault.retry_after(3), chat_id=ANN_ID)
    with pytest.raises(RetryAfter) as caught:
        await ptb_bot.send_message(ANN_ID, "one")
    assert "retry in 3 seconds" in str(caught.value).lower()
    server.inject_fault("sendMessage", Fault.blocked())
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await ptb_bot.send_message(ANN_ID, "two")
    await server.set_blocked(TOKEN, ann)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await ptb_bot.send_message(ANN_ID, "three")
    await server.set_blocked(TOKEN, ann, blocked=False)
    await ptb_bot.send_message(ANN_ID, "four")
    assert [m.text for m in server.sent_messages(TOKEN)] == ["four"]


async def test_unknown_token_with_ptb(server: FakeTelegramServer) -> None:
    bot = telegram.Bot("999:WRONG", base_url=f"{server.base_url}/bot")
    with pytest.raises(InvalidToken):
        await bot.initialize()
    await bot.shutdown()


async def test_a_member_replies_to_the_bots_message_in_a_group(
    server: FakeTelegramServer, ptb_bot: telegram.Bot
) -> None:
    group = server.add_group(-100777, "Plain agents")
    agent = server.add_user(3004, "Agent Jones")
    posted = await ptb_bot.send_message(-100777, "Ticket #3: Ann wrote hi")
    [sent] = server.sent_messages(TOKEN, -100777)
    await server.send_text(TOKEN, agent, "on it", chat=group, reply_to=sent)
    [update] = await ptb_bot.get_updates()
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == posted.message_id
    assert update.message.reply_to_message.from_user == ptb_bot.bot
    server.add_group(-100778, "Elsewhere")
    with pytest.raises(ValueError, match="in the chat of the message"):
        await server.send_text(TOKEN, agent, "wrong chat", chat=-100778, reply_to=sent)
