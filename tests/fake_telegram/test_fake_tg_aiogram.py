"""The real aiogram client against the fake server: messages, edits, callbacks, errors."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.fake_telegram import FakeTelegramServer, FakeUser

TOKEN = "123:ABC"  # the fixtures in conftest.py register these
ANN_ID = 1001
GROUP_ID = -100123

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="yes")]]
)


async def test_get_me(aiogram_bot: Bot) -> None:
    me = await aiogram_bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (123, "nudge_bot", "Nudge", True)


async def test_send_message_is_recorded_with_raw_and_plain_text(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    message = await aiogram_bot.send_message(
        ANN_ID, "<b>Hi</b> Ann &amp; co", parse_mode="HTML", reply_markup=KEYBOARD
    )
    assert message.text == "Hi Ann & co"
    assert message.html_text == "<b>Hi</b> Ann &amp; co"
    assert message.from_user is not None and message.from_user.id == 123
    assert message.reply_markup is not None
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    assert message.message_id == 2  # the user's "hello" was message 1 of this chat
    [sent] = await server.wait_for_messages(TOKEN, 1, chat_id=ANN_ID)
    assert (sent.text, sent.plain_text, sent.parse_mode) == (
        "<b>Hi</b> Ann &amp; co",
        "Hi Ann & co",
        "HTML",
    )
    assert sent.reply_markup == {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    assert server.calls("sendmessage")[0].params["chat_id"] == ANN_ID


async def test_edit_and_delete(server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser) -> None:
    message = await aiogram_bot.send_message(ANN_ID, "draft", reply_markup=KEYBOARD)
    edited = await aiogram_bot.edit_message_text(
        "<i>final</i>", chat_id=ANN_ID, message_id=message.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool)
    assert edited.text == "final" and edited.edit_date is not None
    assert edited.reply_markup is None  # editing the text without a keyboard drops it
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aiogram_bot.edit_message_text(
            "<i>final</i>", chat_id=ANN_ID, message_id=message.message_id, parse_mode="HTML"
        )
    await aiogram_bot.edit_message_reply_markup(
        chat_id=ANN_ID, message_id=message.message_id, reply_markup=KEYBOARD
    )
    [sent] = server.sent_messages(TOKEN, ANN_ID)
    assert (sent.original_text, sent.edits, sent.plain_text) == ("draft", ["<i>final</i>"], "final")
    assert sent.reply_markup is not None
    assert await aiogram_bot.delete_message(ANN_ID, message.message_id) is True
    assert server.sent_messages(TOKEN, ANN_ID)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await aiogram_bot.delete_message(ANN_ID, message.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await aiogram_bot.edit_message_text("x", chat_id=ANN_ID, message_id=99)


async def test_button_press_and_answer(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    message = await aiogram_bot.send_message(ANN_ID, "Agree?", reply_markup=KEYBOARD)
    [sent] = server.sent_messages(TOKEN)
    update = await server.press_button(TOKEN, ann, sent, "yes")
    with pytest.raises(ValueError, match="no inline button"):
        await server.press_button(TOKEN, ann, sent, "no")

    updates = await aiogram_bot.get_updates(offset=update["update_id"])
    query = updates[0].callback_query
    assert query is not None and query.data == "yes"
    assert query.message is not None and query.message.message_id == message.message_id
    assert await aiogram_bot.answer_callback_query(query.id, text="Thanks") is True
    answer = server.callback_answer(TOKEN, query.id)
    assert answer is not None and answer.answered and answer.text == "Thanks"
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await aiogram_bot.answer_callback_query(query.id)


async def test_chat_action_commands_chat_and_member(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    server.add_group(GROUP_ID, "Agents", is_forum=True, members=[ANN_ID])
    assert await aiogram_bot.send_chat_action(ANN_ID, "typing") is True
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await aiogram_bot.send_chat_action(ANN_ID, "dancing")
    from aiogram.types import BotCommand

    assert await aiogram_bot.set_my_commands([BotCommand(command="start", description="Go")])
    assert [c.command for c in await aiogram_bot.get_my_commands()] == ["start"]
    assert await aiogram_bot.delete_my_commands()
    assert await aiogram_bot.get_my_commands() == []
    chat = await aiogram_bot.get_chat(GROUP_ID)
    assert (chat.type, chat.title, chat.is_forum) == ("supergroup", "Agents", True)
    me = await aiogram_bot.get_chat_member(GROUP_ID, 123)
    assert me.status == "administrator"
    member = await aiogram_bot.get_chat_member(GROUP_ID, ANN_ID)
    assert member.status == "member"


async def test_validation_errors(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await aiogram_bot.send_message(ANN_ID, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await aiogram_bot.send_message(ANN_ID, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await aiogram_bot.send_message(ANN_ID, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await aiogram_bot.send_message(ANN_ID, "   ")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await aiogram_bot.send_message(5555, "hi")
    stranger = server.add_user(2002, "Never wrote")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await aiogram_bot.send_message(stranger.id, "hi")
    too_long_data = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await aiogram_bot.send_message(ANN_ID, "hi", reply_markup=too_long_data)
    await aiogram_bot.send_message(ANN_ID, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    assert server.stats(TOKEN)["sendMessage"] == {"200": 1, "400": 7}
    assert server.sent_messages(TOKEN)[0].plain_text == "y" * 4096


async def test_unknown_token_is_unauthorized(server: FakeTelegramServer) -> None:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    stranger = Bot("999:WRONG", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()
    assert server.calls()[-1].status == 401
