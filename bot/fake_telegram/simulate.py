"""What users do: write to a bot, press its buttons, block it. Each produces an Update."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.fake_telegram.entities import command_entities
from bot.fake_telegram.models import (
    CallbackAnswer,
    FakeGroup,
    FakeUser,
    JsonDict,
    SentMessage,
)
from bot.fake_telegram.render import member, message_dict
from bot.fake_telegram.state import BotState
from bot.fake_telegram.world import World


async def enqueue(bot: BotState, update: JsonDict) -> JsonDict:
    """Queue an update (assigning ``update_id`` if missing) and wake pollers/webhook."""
    queued = bot.updates.put(update)
    await bot.updates.signal.notify()
    return queued


async def user_sends_text(
    world: World,
    bot: BotState,
    user: FakeUser,
    text: str,
    group: FakeGroup | None = None,
    thread_id: int | None = None,
    reply_to: SentMessage | None = None,
) -> JsonDict:
    """A text message from ``user`` in their private chat with the bot, or in ``group``."""
    if group is None:
        chat, message_id = _private_origin(bot, user, thread_id)
    else:
        chat, message_id = _group_origin(group, user, thread_id)
    message: JsonDict = {
        "message_id": message_id,
        "from": user.to_dict(),
        "chat": chat,
        "date": world.now(),
        "text": text,
    }
    if thread_id is not None:
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
    if reply_to is not None:
        replied = _find_sent(bot, reply_to)
        if replied.chat_id != chat["id"]:
            raise ValueError("a reply must be in the chat of the message it answers")
        message["reply_to_message"] = message_dict(bot, world.chat_by_id(chat["id"]), replied)
    entities = command_entities(text)
    if entities:
        message["entities"] = entities
    bot.incoming[(chat["id"], message_id)] = message
    return await enqueue(bot, {"message": message})


def _private_origin(bot: BotState, user: FakeUser, thread_id: int | None) -> tuple[JsonDict, int]:
    if user.user_id in bot.blocked:
        raise RuntimeError(
            f"user {user.user_id} blocked the bot; call set_blocked(..., blocked=False) first"
        )
    if thread_id is not None:
        raise ValueError("thread_id needs a forum group chat")
    bot.known_chats.add(user.user_id)
    return user.chat_dict(), bot.allocate_private_message_id(user.user_id)


def _group_origin(group: FakeGroup, user: FakeUser, thread_id: int | None) -> tuple[JsonDict, int]:
    if thread_id is not None and thread_id not in group.topics:
        raise ValueError(f"group {group.chat_id} has no topic {thread_id}")
    group.members.add(user.user_id)
    return group.chat_dict(), group.allocate_message_id()


def _callback_data(markup: JsonDict | None) -> Iterator[Any]:
    keyboard = (markup or {}).get("inline_keyboard") or []
    for row in keyboard:
        for button in row:
            if isinstance(button, dict) and "callback_data" in button:
                yield button["callback_data"]


def _find_sent(bot: BotState, message: SentMessage | JsonDict) -> SentMessage:
    if isinstance(message, SentMessage):
        found = bot.messages.get(message.chat_id, message.message_id)
    else:
        found = bot.messages.get(message["chat"]["id"], message["message_id"])
    if found is None or found.deleted:
        raise ValueError("the bot did not send that message (or deleted it)")
    return found


async def user_presses_button(
    world: World, bot: BotState, user: FakeUser, message: SentMessage | JsonDict, data: str
) -> JsonDict:
    """A ``callback_query`` update for an inline button with ``callback_data == data``."""
    sent = _find_sent(bot, message)
    if data not in set(_callback_data(sent.reply_markup)):
        raise ValueError(
            f"message {sent.message_id} has no inline button with callback_data {data!r}"
        )
    chat = world.chat_by_id(sent.chat_id)
    if isinstance(chat, FakeUser) and chat.user_id != user.user_id:
        raise ValueError(f"user {user.user_id} cannot see a message in {chat.user_id}'s chat")
    query_id = f"{bot.info.id}{bot.next_callback_id:08d}"
    bot.next_callback_id += 1
    bot.callbacks[query_id] = CallbackAnswer(query_id, sent.chat_id, sent.message_id, data)
    query: JsonDict = {
        "id": query_id,
        "from": user.to_dict(),
        "message": message_dict(bot, chat, sent),
        "chat_instance": f"{bot.info.id}{abs(sent.chat_id)}",
        "data": data,
    }
    return await enqueue(bot, {"callback_query": query})


async def user_sets_blocked(world: World, bot: BotState, user: FakeUser, blocked: bool) -> JsonDict:
    """A ``my_chat_member`` update: the user blocked (kicked) or unblocked the bot."""
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    if blocked:
        bot.blocked.add(user.user_id)
    else:
        bot.blocked.discard(user.user_id)
    bot.known_chats.add(user.user_id)
    change: JsonDict = {
        "chat": user.chat_dict(),
        "from": user.to_dict(),
        "date": world.now(),
        "old_chat_member": member(bot.user, old),
        "new_chat_member": member(bot.user, new),
    }
    return await enqueue(bot, {"my_chat_member": change})
