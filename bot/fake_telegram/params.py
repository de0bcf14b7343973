"""Reading Bot API parameters from a request: query string, JSON, urlencoded or multipart.

Form values are strings, so each known field is coerced the way Telegram does: integer ids,
JSON-serialised objects and booleans. Values already typed (a JSON body) are kept, except that
numeric strings in integer fields become ints.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import BodyPartReader, web

from bot.fake_telegram.errors import ApiError, bad_request

Params = dict[str, Any]

INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "from_chat_id",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
        "icon_color",
        "until_date",
        "direct_messages_topic_id",
    }
)
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "message_ids",
        "menu_button",
        "rights",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "drop_pending_updates",
        "show_alert",
        "for_channels",
        "only_if_banned",
    }
)
_INT = re.compile(r"-?[0-9]+")
_JSON_NAMES = {"reply_markup": "reply keyboard markup", "entities": "entities"}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_params(request: web.Request) -> Params:
    """All parameters of a Bot API request, coerced per field."""
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            raw.update(await _read_json(request))
        elif content_type in _FORM_TYPES:
            raw.update(await _read_form(request))
    return coerce_params(raw)


async def _read_json(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("can't parse JSON object") from exc
    if not isinstance(body, dict):
        raise bad_request("JSON object expected")
    return body


async def _read_form(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    values: dict[str, Any] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            values[part.name] = {"file_name": part.filename, "size": len(await part.read())}
        else:
            values[part.name] = await part.text()
    return values


def coerce_params(raw: dict[str, Any]) -> Params:
    """Coerce known fields (ints, JSON, bools); raise 400 :class:`ApiError` on bad values."""
    params: Params = {}
    for key, value in raw.items():
        if key in INT_FIELDS:
            params[key] = _coerce_int(key, value)
        elif key in JSON_FIELDS:
            params[key] = _coerce_json(key, value)
        elif key in BOOL_FIELDS:
            params[key] = _coerce_bool(value)
        else:
            params[key] = value
    return params


def _coerce_int(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        raise bad_request(f"invalid {key} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    if key == "chat_id" and isinstance(value, str) and value.startswith("@"):
        return value
    if key == "chat_id":
        raise bad_request("chat not found")
    raise bad_request(f"invalid {key} specified")


def _coerce_json(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        name = _JSON_NAMES.get(key, key.replace("_", " "))
        raise bad_request(f"can't parse {name} JSON object") from exc


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def require_int(params: Params, key: str, empty_message: str | None = None) -> int:
    """An integer parameter that must be present."""
    value = params.get(key)
    if value is None or value == "":
        raise bad_request(empty_message or f"{key} is empty")
    if not isinstance(value, int):
        raise bad_request(f"invalid {key} specified")
    return value


def optional_int(params: Params, key: str) -> int | None:
    """An integer parameter that may be absent."""
    value = params.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, int):
        raise bad_request(f"invalid {key} specified")
    return value


def optional_str(params: Params, key: str) -> str | None:
    """A string parameter that may be absent (non-strings are rendered as text)."""
    value = params.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


__all__ = ["ApiError", "Params", "coerce_params", "optional_int", "read_params", "require_int"]
