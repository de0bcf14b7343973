"""Bot API message methods: sendMessage, edits, deleteMessage, answerCallbackQuery, actions."""

from __future__ import annotations

import time
from typing import Any

from bot.fake_telegram.errors import bad_request
from bot.fake_telegram.models import Chat, JsonDict, SentMessage
from bot.fake_telegram.params import Params, optional_int, optional_str, require_int
from bot.fake_telegram.render import (
    check_reply_markup,
    check_thread,
    ensure_not_blocked,
    message_dict,
    prepare_text,
)
from bot.fake_telegram.state import BotState
from bot.fake_telegram.world import World

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def send_message(world: World, bot: BotState, params: Params) -> JsonDict:
    chat = world.resolve_chat(bot, params.get("chat_id"))
    ensure_not_blocked(bot, chat)
    text = prepare_text(params)
    thread_id = check_thread(chat, optional_int(params, "message_thread_id"))
    markup = check_reply_markup(params.get("reply_markup"))
    reply_to = _reply_target(bot, chat, params)
    message = SentMessage(
        token=bot.token,
        chat_id=chat.id,
        message_id=world.allocate_message_id(bot, chat),
        text=text.raw,
        plain_text=text.plain,
        parse_mode=text.parse_mode,
        reply_markup=markup,
        thread_id=thread_id,
        at=time.monotonic(),
        date=world.now(),
        entities=text.entities,
        original_text=text.raw,
        params=params,
    )
    bot.messages.add(message)
    await world.observed.notify()
    result = message_dict(bot, chat, message)
    if reply_to is not None:
        result["reply_to_message"] = reply_to
    return result


def _reply_target(bot: BotState, chat: Chat, params: Params) -> JsonDict | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        lenient = bool(reply.get("allow_sending_without_reply"))
    else:
        message_id = optional_int(params, "reply_to_message_id")
        lenient = bool(params.get("allow_sending_without_reply"))
    if message_id is None:
        return None
    incoming = bot.incoming.get((chat.id, message_id)) if isinstance(message_id, int) else None
    if incoming is not None:
        return incoming
    sent = bot.messages.get(chat.id, message_id) if isinstance(message_id, int) else None
    if sent is not None and not sent.deleted:
        return message_dict(bot, chat, sent)
    if lenient:
        return None
    raise bad_request("message to be replied not found")


def _own_message(world: World, bot: BotState, params: Params, missing: str) -> SentMessage:
    chat = world.resolve_chat(bot, params.get("chat_id"))
    ensure_not_blocked(bot, chat)
    message_id = require_int(params, "message_id", "message identifier is not specified")
    message = bot.messages.get(chat.id, message_id)
    if message is None or message.deleted:
        if (chat.id, message_id) in bot.incoming:
            raise bad_request("message can't be edited")
        raise bad_request(missing)
    return message


async def edit_message_text(world: World, bot: BotState, params: Params) -> JsonDict | bool:
    if params.get("inline_message_id"):
        prepare_text(params)
        return True
    message = _own_message(world, bot, params, "message to edit not found")
    text = prepare_text(params)
    markup = check_reply_markup(params.get("reply_markup"))
    same_text = text.plain == message.plain_text and text.entities == message.entities
    if same_text and markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.text, message.plain_text, message.entities = text.raw, text.plain, text.entities
    message.parse_mode = text.parse_mode
    message.reply_markup = markup
    message.edits.append(text.raw)
    message.edit_date = world.now()
    await world.observed.notify()
    return message_dict(bot, world.chat_by_id(message.chat_id), message)


async def edit_message_reply_markup(world: World, bot: BotState, params: Params) -> Any:
    if params.get("inline_message_id"):
        check_reply_markup(params.get("reply_markup"))
        return True
    message = _own_message(world, bot, params, "message to edit not found")
    markup = check_reply_markup(params.get("reply_markup"))
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    message.edit_date = world.now()
    await world.observed.notify()
    return message_dict(bot, world.chat_by_id(message.chat_id), message)


async def delete_message(world: World, bot: BotState, params: Params) -> bool:
    chat = world.resolve_chat(bot, params.get("chat_id"))
    message_id = require_int(params, "message_id", "message identifier is not specified")
    message = bot.messages.get(chat.id, message_id)
    if message is not None and not message.deleted:
        message.deleted = True
        await world.observed.notify()
        return True
    if bot.incoming.pop((chat.id, message_id), None) is not None:
        return True
    raise bad_request("message to delete not found")


async def answer_callback_query(world: World, bot: BotState, params: Params) -> bool:
    query_id = optional_str(params, "callback_query_id")
    record = bot.callbacks.get(query_id or "")
    if record is None or record.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    record.answered = True
    record.text = optional_str(params, "text")
    record.show_alert = bool(params.get("show_alert"))
    record.url = optional_str(params, "url")
    await world.observed.notify()
    return True


async def send_chat_action(world: World, bot: BotState, params: Params) -> bool:
    chat = world.resolve_chat(bot, params.get("chat_id"))
    ensure_not_blocked(bot, chat)
    if params.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    check_thread(chat, optional_int(params, "message_thread_id"))
    return True


HANDLERS = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
