"""Building Bot API objects (Message, ChatFullInfo, ChatMember) and validating message input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.fake_telegram.entities import Entity, strip_text, utf16_len
from bot.fake_telegram.errors import BLOCKED_DESCRIPTION, bad_request, forbidden
from bot.fake_telegram.models import Chat, FakeGroup, FakeUser, JsonDict, SentMessage
from bot.fake_telegram.params import Params, optional_str
from bot.fake_telegram.state import BotState
from bot.fake_telegram.tg_html import HtmlError, parse_html

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


@dataclass(frozen=True, slots=True)
class PreparedText:
    """A message text checked like Telegram: raw input, visible text and entities."""

    raw: str
    plain: str
    entities: list[Entity]
    parse_mode: str | None


def prepare_text(params: Params) -> PreparedText:
    """Validate ``text``/``parse_mode``/``entities``; 400 errors with Telegram's wording."""
    raw = params.get("text")
    if raw is None or raw == "":
        raise bad_request("message text is empty")
    if not isinstance(raw, str):
        raw = str(raw)
    parse_mode = optional_str(params, "parse_mode") or None
    plain, entities = _parse(raw, parse_mode, params.get("entities"))
    plain, entities = strip_text(plain, entities)
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return PreparedText(raw, plain, entities, parse_mode)


def _parse(raw: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Entity]]:
    mode = parse_mode.lower() if parse_mode else None
    if mode is None:
        if entities is not None and not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        return raw, list(entities or [])
    if mode == "html":
        try:
            parsed = parse_html(raw)
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
        return parsed.text, parsed.entities
    if mode in ("markdown", "markdownv2"):
        return raw, []
    raise bad_request(f"unsupported parse_mode {parse_mode}")


def check_reply_markup(markup: Any) -> JsonDict | None:
    """Validate ``reply_markup`` (inline keyboards in detail); return it unchanged."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
    for row in keyboard:
        for button in row:
            _check_button(button)
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    if not _BUTTON_ACTIONS.intersection(button):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None:
        size = len(str(data).encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")


def check_thread(chat: Chat, thread_id: int | None) -> int | None:
    """The topic a message goes to; 400 if the chat has no such topic."""
    if thread_id is None:
        return None
    if isinstance(chat, FakeGroup) and chat.is_forum and thread_id in chat.topics:
        return thread_id
    raise bad_request("message thread not found")


def ensure_not_blocked(bot: BotState, chat: Chat) -> None:
    if isinstance(chat, FakeUser) and chat.user_id in bot.blocked:
        raise forbidden(BLOCKED_DESCRIPTION)


def message_dict(bot: BotState, chat: Chat, message: SentMessage) -> JsonDict:
    """The Bot API ``Message`` object of a message the bot sent."""
    data: JsonDict = {
        "message_id": message.message_id,
        "from": bot.user.to_dict(),
        "date": message.date,
        "chat": chat.chat_dict(),
        "text": message.plain_text,
    }
    if message.thread_id is not None:
        data["message_thread_id"] = message.thread_id
        data["is_topic_message"] = True
    if message.entities:
        data["entities"] = message.entities
    if message.edit_date is not None:
        data["edit_date"] = message.edit_date
    markup = message.reply_markup
    if markup is not None and "inline_keyboard" in markup:
        data["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    if message.params.get("protect_content"):
        data["has_protected_content"] = True
    return data


def chat_full_info(chat: Chat) -> JsonDict:
    """The Bot API ``ChatFullInfo`` object."""
    data = chat.chat_dict()
    data.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    return data


def administrator(user: FakeUser, *, can_be_edited: bool) -> JsonDict:
    """A ``ChatMemberAdministrator`` with every right."""
    rights = (
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
        "can_send_welcome_messages",
        "can_pin_messages",
        "can_manage_topics",
    )
    data: JsonDict = {"status": "administrator", "user": user.to_dict()}
    data.update(dict.fromkeys(rights, True))
    data.update(can_be_edited=can_be_edited, is_anonymous=False)
    return data


def member(user: FakeUser, status: str) -> JsonDict:
    """A ``ChatMember`` of a simple status: member, left or kicked."""
    data: JsonDict = {"status": status, "user": user.to_dict()}
    if status == "kicked":
        data["until_date"] = 0
    return data
