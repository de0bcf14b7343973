"""Turns a stored web chat update into the domain's `InboundEvent`."""

from __future__ import annotations

import re
from typing import Any

from bot.channels.webchat.backend import DISPLAY_NAME
from bot.domain.inbound import InboundEvent, InboundKind, Sender
from bot.domain.model import Channel, InboundUpdate

# Telegram's command syntax, so "/start", "/help", "/stop" mean what they mean there; the
# "@bot_name" suffix Telegram clients add in groups is accepted and ignored.
_COMMAND = re.compile(r"/(?P<name>[A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(?P<args>.*))?", re.DOTALL)


def to_event(update: InboundUpdate) -> InboundEvent:
    """The event for one stored payload (as written by `WebchatBackend.accept`).

    Raises ValueError for a payload that is not a web chat message, so the processor can mark
    the update failed instead of guessing.
    """
    if update.channel is not Channel.WEBCHAT:
        raise ValueError(f"not a web chat update: {update.channel}")
    payload = update.payload
    token = _string(payload, "visitor_token")
    language = payload.get("language")
    sender = Sender(
        channel=Channel.WEBCHAT,
        external_id=token,
        address=token,
        display_name=str(payload.get("display_name") or DISPLAY_NAME),
        language_code=language if isinstance(language, str) else None,
    )
    key = f"webchat:{update.external_key}"
    client_id = _string(payload, "client_id")
    kind = payload.get("type")
    if kind == "button":
        return InboundEvent(
            update_key=key,
            sender=sender,
            kind=InboundKind.BUTTON,
            callback_data=_string(payload, "data"),
            channel_message_id=client_id,
        )
    if kind != "message":
        raise ValueError(f"unknown web chat payload type: {kind!r}")
    text = _string(payload, "text")
    command, args = _command(text)
    return InboundEvent(
        update_key=key,
        sender=sender,
        kind=InboundKind.TEXT if command is None else InboundKind.COMMAND,
        text=text,
        command=command,
        command_args=args,
        channel_message_id=client_id,
    )


def _command(text: str) -> tuple[str | None, str]:
    """("start", "payload") for "/start payload"; (None, "") for a text that is no command."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None:
        return None, ""
    return match["name"].lower(), (match["args"] or "").strip()


def _string(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"web chat payload without {key!r}")
    return value
