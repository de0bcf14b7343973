"""Bot API chat methods: getChat, getChatMember, forum topics and bot commands."""

from __future__ import annotations

import json
import re

from bot.fake_telegram.errors import bad_request
from bot.fake_telegram.models import FakeGroup, ForumTopic, JsonDict
from bot.fake_telegram.params import Params, optional_str, require_int
from bot.fake_telegram.render import administrator, chat_full_info, member
from bot.fake_telegram.state import BotState
from bot.fake_telegram.world import Handler, World

TOPIC_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


async def get_chat(world: World, bot: BotState, params: Params) -> JsonDict:
    return chat_full_info(world.resolve_chat(bot, params.get("chat_id")))


async def get_chat_member(world: World, bot: BotState, params: Params) -> JsonDict:
    chat = world.resolve_chat(bot, params.get("chat_id"))
    user_id = require_int(params, "user_id", "user not found")
    if user_id == bot.user.user_id:
        if isinstance(chat, FakeGroup):
            return administrator(bot.user, can_be_edited=False)
        return member(bot.user, "kicked" if chat.user_id in bot.blocked else "member")
    user = world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if not isinstance(chat, FakeGroup):
        if user_id != chat.user_id:
            raise bad_request("user not found")
        return member(user, "member")
    if user_id in chat.admins:
        return administrator(user, can_be_edited=False)
    return member(user, "member" if user_id in chat.members else "left")


def _forum(world: World, bot: BotState, params: Params) -> FakeGroup:
    chat = world.resolve_chat(bot, params.get("chat_id"))
    if not isinstance(chat, FakeGroup) or not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _topic(world: World, bot: BotState, params: Params) -> ForumTopic:
    group = _forum(world, bot, params)
    thread_id = require_int(params, "message_thread_id", "message thread not found")
    topic = group.topics.get(thread_id)
    if topic is None:
        raise bad_request("message thread not found")
    return topic


def _topic_name(params: Params, required: bool) -> str | None:
    name = optional_str(params, "name")
    if name is None and not required:
        return None
    if not name or not name.strip():
        raise bad_request("TOPIC_TITLE_EMPTY")
    if len(name) > 128:
        raise bad_request("TOPIC_TITLE_TOO_LONG")
    return name


async def create_forum_topic(world: World, bot: BotState, params: Params) -> JsonDict:
    group = _forum(world, bot, params)
    name = _topic_name(params, required=True)
    assert name is not None
    color = params.get("icon_color", 7322096)
    if color not in TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    topic = ForumTopic(
        thread_id=group.allocate_message_id(),
        name=name,
        icon_color=color,
        icon_custom_emoji_id=optional_str(params, "icon_custom_emoji_id") or None,
    )
    group.topics[topic.thread_id] = topic
    return topic.to_dict()


async def edit_forum_topic(world: World, bot: BotState, params: Params) -> bool:
    topic = _topic(world, bot, params)
    name = _topic_name(params, required=False)
    emoji = optional_str(params, "icon_custom_emoji_id")
    changed = (name is not None and name != topic.name) or (
        emoji is not None and (emoji or None) != topic.icon_custom_emoji_id
    )
    if not changed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    if name is not None:
        topic.name = name
    if emoji is not None:
        topic.icon_custom_emoji_id = emoji or None
    return True


async def close_forum_topic(world: World, bot: BotState, params: Params) -> bool:
    topic = _topic(world, bot, params)
    if topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = True
    return True


async def reopen_forum_topic(world: World, bot: BotState, params: Params) -> bool:
    topic = _topic(world, bot, params)
    if not topic.closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = False
    return True


async def delete_forum_topic(world: World, bot: BotState, params: Params) -> bool:
    topic = _topic(world, bot, params)
    _forum(world, bot, params).topics.pop(topic.thread_id, None)
    return True


def _commands_key(params: Params) -> str:
    scope = params.get("scope") or {"type": "default"}
    language = optional_str(params, "language_code") or ""
    return f"{json.dumps(scope, sort_keys=True)}|{language}"


async def set_my_commands(world: World, bot: BotState, params: Params) -> bool:
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        name = command.get("command") if isinstance(command, dict) else None
        description = command.get("description") if isinstance(command, dict) else None
        if not isinstance(name, str) or not _COMMAND.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("command description is empty")
    bot.commands[_commands_key(params)] = commands
    return True


async def delete_my_commands(world: World, bot: BotState, params: Params) -> bool:
    bot.commands.pop(_commands_key(params), None)
    return True


async def get_my_commands(world: World, bot: BotState, params: Params) -> list[JsonDict]:
    return bot.commands.get(_commands_key(params), [])


async def accept(world: World, bot: BotState, params: Params) -> bool:
    """Settings the fake accepts without checking (bot description, menu button...)."""
    return True


HANDLERS: dict[str, Handler] = {
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "createForumTopic": create_forum_topic,
    "editForumTopic": edit_forum_topic,
    "closeForumTopic": close_forum_topic,
    "reopenForumTopic": reopen_forum_topic,
    "deleteForumTopic": delete_forum_topic,
    "setMyCommands": set_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getMyCommands": get_my_commands,
    "setMyDescription": accept,
    "setMyShortDescription": accept,
    "setMyName": accept,
    "setChatMenuButton": accept,
    "setMyDefaultAdministratorRights": accept,
}
