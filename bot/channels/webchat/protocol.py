"""The web chat's JSON frames: parsing what the widget sends, building what the server sends.

Parsing never raises: a frame is either one of the client frame dataclasses or an `Invalid`
carrying a plain sentence the widget can show. The socket stays open after an `Invalid`, so a
buggy or hostile client gets an explanation instead of a dropped connection, and nothing is
stored from a frame that did not validate.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.model import Button, Direction, Message

Frame = dict[str, Any]

MAX_TEXT_LENGTH = 4000
MAX_DATA_LENGTH = 256
# A 4000-character text is at most ~24 KB once JSON-escaped (six bytes a character); anything
# much larger cannot be a valid frame, so it is refused before json.loads spends time on it.
MAX_FRAME_BYTES = 32 * 1024

_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_VISITOR_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}")


@dataclass(frozen=True, slots=True)
class Hello:
    visitor_token: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class ChatText:
    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ButtonPress:
    client_id: str
    data: str


@dataclass(frozen=True, slots=True)
class LinkTelegram:
    pass


@dataclass(frozen=True, slots=True)
class Invalid:
    """A frame that was refused; `message` is shown to the visitor as is."""

    message: str


ClientFrame = Hello | ChatText | ButtonPress | LinkTelegram
Stored = ChatText | ButtonPress  # the frames that become stored inbound updates


class _Refused(Exception):
    pass


def parse_client_frame(raw: str | bytes) -> ClientFrame | Invalid:
    """Decode and validate one frame from the widget."""
    try:
        if len(raw) > MAX_FRAME_BYTES:
            raise _Refused("The message is too large.")
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text)
        if not isinstance(data, dict):
            raise _Refused("A frame must be a JSON object.")
        return _parse_object(data)
    except _Refused as refused:
        return Invalid(str(refused))
    except (ValueError, RecursionError):  # bad UTF-8, bad JSON, absurd nesting
        return Invalid("The frame is not valid JSON.")


def _parse_object(data: dict[str, Any]) -> ClientFrame:
    kind = data.get("type")
    if kind == "hello":
        token = _optional(data, "visitor_token", _VISITOR_TOKEN, "The visitor token is malformed.")
        language = _optional(data, "language", _LANGUAGE, "The language is malformed.")
        return Hello(visitor_token=token, language=language)
    if kind == "message":
        return ChatText(client_id=_client_id(data), text=_text(data.get("text")))
    if kind == "button":
        return ButtonPress(client_id=_client_id(data), data=_button_data(data.get("data")))
    if kind == "link_telegram":
        return LinkTelegram()
    if not isinstance(kind, str):
        raise _Refused("A frame needs a string field 'type'.")
    raise _Refused("Unknown frame type.")


def _optional(data: dict[str, Any], key: str, pattern: re.Pattern[str], problem: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _Refused(problem)
    return value


def _client_id(data: dict[str, Any]) -> str:
    value = data.get("client_id")
    if not isinstance(value, str) or not _CLIENT_ID.fullmatch(value):
        raise _Refused("The client id must be 1 to 64 letters, digits, '-' or '_'.")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Refused("The text must be a string.")
    if not value.strip():
        raise _Refused("The message is empty.")
    if len(value) > MAX_TEXT_LENGTH:
        raise _Refused(f"The message is longer than {MAX_TEXT_LENGTH} characters.")
    _check_storable(value)
    return value


def _button_data(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _Refused("The button data must be a non-empty string.")
    if len(value) > MAX_DATA_LENGTH:
        raise _Refused("The button data is too long.")
    _check_storable(value)
    return value


def _check_storable(value: str) -> None:
    # JSON allows lone surrogates and NUL; neither survives a round trip through PostgreSQL
    # JSONB (nor UTF-8), so they are refused here rather than failing later in the processor.
    if "\x00" in value:
        raise _Refused("The text contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused("The text is not valid Unicode.") from None


# --- server -> client ------------------------------------------------------------------------


def frame_id(message: Message) -> str:
    """The id the widget deduplicates on.

    A bot or agent message carries the id of its outbox row, which is also what the gateway
    pushes (`web-<outbox id>`), so a message pushed live and seen again in the history after
    a reload is shown once.
    """
    if message.outbox_id is not None:
        return f"web-{message.outbox_id}"
    return f"m-{message.id}"


def history_item(message: Message) -> Frame:
    inbound = message.direction is Direction.INBOUND
    # What visitors type is plain text; what the bot sends is already Telegram HTML.
    body = html.escape(message.text, quote=False) if inbound else message.text
    return {
        "id": frame_id(message),
        "direction": message.direction.value,
        "sender": message.sender.value,
        "html": body,
        "at": _iso(message.created_at),
    }


def welcome_frame(
    visitor_token: str, history: Iterable[Message], *, telegram: bool = False
) -> Frame:
    """`telegram` says whether "Continue in Telegram" can work (a Telegram bot is configured)."""
    return {
        "type": "welcome",
        "visitor_token": visitor_token,
        "history": [history_item(message) for message in history],
        "telegram": telegram,
    }


def ack_frame(client_id: str, duplicate: bool) -> Frame:
    return {"type": "ack", "client_id": client_id, "duplicate": duplicate}


def message_frame(
    message_id: str, html_text: str, buttons: list[list[Button]], at: datetime
) -> Frame:
    return {
        "type": "message",
        "id": message_id,
        "html": html_text,
        "buttons": [[_button(button) for button in row] for row in buttons],
        "at": _iso(at),
    }


def telegram_link_frame(url: str | None, reason: str | None = None) -> Frame:
    frame: Frame = {"type": "telegram_link", "url": url}
    if reason is not None:
        frame["reason"] = reason
    return frame


def error_frame(message: str) -> Frame:
    return {"type": "error", "message": message}


def _button(button: Button) -> Frame:
    out: Frame = {"text": button.text}
    if button.url is not None:
        out["url"] = button.url
    if button.callback_data is not None:
        out["data"] = button.callback_data
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat()
