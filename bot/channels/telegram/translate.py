"""Stored Telegram updates -> domain events. Everything Telegram-shaped stops here."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update, User
from pydantic import ValidationError

from bot.conversation.inbox import TranslationError
from bot.domain.inbound import InboundEvent, InboundKind, Sender
from bot.domain.model import Channel, InboundUpdate

_LEFT_STATUSES = frozenset({"kicked", "left"})


def parse_update(payload: dict[str, Any]) -> Update:
    """Validate a raw update body; raises TranslationError with a plain sentence."""
    if not isinstance(payload.get("update_id"), int):
        raise TranslationError("update has no integer update_id")
    try:
        return Update.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TranslationError(f"invalid update: {where}: {first['msg']}") from None


def to_event(update: InboundUpdate) -> InboundEvent | None:
    parsed = parse_update(update.payload)
    key = f"telegram:{parsed.update_id}"
    if parsed.message is not None:
        return _from_message(key, parsed.message)
    if parsed.callback_query is not None:
        return _from_callback(key, parsed.callback_query)
    if parsed.my_chat_member is not None:
        return _from_member_change(key, parsed.my_chat_member)
    return None  # edits, channel posts, ...: nothing for a customer bot to do


def _sender(user: User, chat_id: int) -> Sender:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return Sender(
        channel=Channel.TELEGRAM,
        external_id=str(user.id),
        address=str(chat_id),
        display_name=name or user.username or str(user.id),
        username=user.username,
        language_code=user.language_code,
    )


def _from_message(key: str, message: Message) -> InboundEvent | None:
    if message.from_user is None or message.chat.type != "private":
        return None  # the customer bot talks to people in private chats only
    sender = _sender(message.from_user, message.chat.id)
    text = message.text or message.caption or ""
    if text.startswith("/"):
        head, _, args = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        return InboundEvent(
            update_key=key,
            sender=sender,
            kind=InboundKind.COMMAND,
            text=text,
            command=command,
            command_args=args.strip(),
            channel_message_id=str(message.message_id),
        )
    return InboundEvent(
        update_key=key,
        sender=sender,
        kind=InboundKind.TEXT,
        text=text or "[non-text message]",
        channel_message_id=str(message.message_id),
    )


def _from_callback(key: str, query: CallbackQuery) -> InboundEvent | None:
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    return InboundEvent(
        update_key=key,
        sender=_sender(query.from_user, chat_id),
        kind=InboundKind.BUTTON,
        callback_data=query.data,
    )


def _from_member_change(key: str, change: ChatMemberUpdated) -> InboundEvent | None:
    if change.chat.type != "private":
        return None
    blocked = change.new_chat_member.status in _LEFT_STATUSES
    return InboundEvent(
        update_key=key,
        sender=_sender(change.from_user, change.chat.id),
        kind=InboundKind.BLOCKED if blocked else InboundKind.UNBLOCKED,
    )
