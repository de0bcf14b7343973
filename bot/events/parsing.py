"""Reading an event (or a link request) from its JSON body, with errors that name the field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.events import ContactRef

MAX_KEY_LENGTH = 255
MAX_TYPE_LENGTH = 128
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_EVENT_FIELDS = ("id", "type", "contact", "data", "occurred_at")
_CONTACT_FIELDS = ("id", "external_id", "telegram_user_id", "phone", "email", "name")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EventError(Exception):
    """A request we refuse, with the HTTP status, what is wrong and the field it is about."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.status = status
        self.message = message
        self.field = field


def bad(field: str | None, message: str) -> EventError:
    return EventError(400, message, field)


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    key: str
    type: str
    contact: ContactRef
    data: dict[str, Any]
    occurred_at: datetime | None


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(None, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise bad(None, "the body is nested too deeply") from None
    if not isinstance(value, dict):
        raise bad(None, "the body must be a JSON object")
    _refuse_unstorable(value, "")
    return value


def _refuse_unstorable(value: object, path: str) -> None:
    """PostgreSQL cannot store a NUL character (\\u0000) or a lone surrogate (\\ud800-\\udfff,
    which JSON allows and Unicode does not) in text or JSONB: refuse them here, naming the
    field, rather than fail when the event is stored. A loop, not recursion: the decoder
    accepts nesting nearly as deep as Python's recursion limit."""
    pending: list[tuple[object, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str) and (problem := _unstorable(item)):
            raise bad(where or None, f"must not contain {problem}")
        if isinstance(item, dict):
            for key, child in item.items():
                if problem := _unstorable(key):
                    raise bad(where or None, f"names must not contain {problem}")
                pending.append((child, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, list):
            pending.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "NUL characters (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "lone surrogates (\\ud800-\\udfff): send valid Unicode"
    return None


def parse_event(body: bytes) -> IncomingEvent:
    """The event in `body`, or EventError(400) naming the first field that is wrong."""
    value = parse_json_object(body)
    _no_unknown_fields(value, _EVENT_FIELDS, "")
    data = value.get("data", {})
    if not isinstance(data, dict):
        raise bad("data", "must be a JSON object")
    return IncomingEvent(
        key=_key(value.get("id")),
        type=_type(value.get("type")),
        contact=parse_contact(value.get("contact")),
        data=data,
        occurred_at=_moment(value.get("occurred_at")),
    )


def parse_contact(value: object, path: str = "contact") -> ContactRef:
    if not isinstance(value, dict):
        raise bad(path, f"required: an object with one of {', '.join(_CONTACT_FIELDS[:5])}")
    _no_unknown_fields(value, _CONTACT_FIELDS, f"{path}.")
    ref = ContactRef(
        id=_positive_int(value.get("id"), f"{path}.id"),
        external_id=_text(value.get("external_id"), f"{path}.external_id", integers=True),
        telegram_user_id=_positive_int(value.get("telegram_user_id"), f"{path}.telegram_user_id"),
        phone=normalise_phone(value.get("phone"), f"{path}.phone"),
        email=normalise_email(value.get("email"), f"{path}.email"),
        name=_text(value.get("name"), f"{path}.name"),
    )
    given = (ref.id, ref.external_id, ref.telegram_user_id, ref.phone, ref.email)
    if all(part is None for part in given):
        raise bad(path, f"needs one of {', '.join(_CONTACT_FIELDS[:5])}")
    return ref


def normalise_phone(value: object, field: str = "phone") -> str | None:
    """'+1 (555) 010-0000' -> '+15550100000'; '0044 20 ...' -> '+4420...'. Digits without a
    '+' are taken as already international: we cannot guess a country."""
    text = _text(value, field, integers=True)
    if text is None:
        return None
    digits = _PHONE_PUNCTUATION.sub("", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    digits = digits.removeprefix("+")
    if not digits.isdigit() or not digits.isascii() or not 7 <= len(digits) <= 15:
        raise bad(field, "must be a phone number in international form, like +15550100000")
    return "+" + digits


def normalise_email(value: object, field: str = "email") -> str | None:
    text = _text(value, field)
    if text is None:
        return None
    email = text.lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise bad(field, "must be an email address, like ada@example.com")
    return email


def _no_unknown_fields(value: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
    for name in value:
        if name not in known:
            raise bad(f"{prefix}{name}", f"unknown field (expected {', '.join(known)})")


def _key(value: object) -> str:
    key = _text(value, "id", integers=True)
    if key is None:
        raise bad("id", "required: your unique id of this event (a repeat is ignored)")
    if len(key) > MAX_KEY_LENGTH:
        raise bad("id", f"at most {MAX_KEY_LENGTH} characters")
    return key


def _type(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise bad("type", "required: the event's type, like cart_abandoned or order.paid")
    if len(value) > MAX_TYPE_LENGTH or not EVENT_TYPE.match(value):
        raise bad(
            "type",
            "must be lower-case letters, digits and '_', in dot-separated parts,"
            " like cart_abandoned or order.paid",
        )
    return value


def _text(value: object, field: str, *, integers: bool = False) -> str | None:
    if value is None:
        return None
    if integers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        kind = "a string or an integer" if integers else "a string"
        raise bad(field, f"must be {kind}")
    text = value.strip()
    if not text:
        raise bad(field, "must not be empty")
    if len(text) > MAX_KEY_LENGTH:
        raise bad(field, f"at most {MAX_KEY_LENGTH} characters")
    return text


def _positive_int(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise bad(field, "must be a positive integer")
    return value


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    example = "an ISO 8601 time with its zone, like 2026-01-05T09:00:00Z"
    if not isinstance(value, str):
        raise bad("occurred_at", f"must be {example}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad("occurred_at", f"must be {example}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise bad("occurred_at", f"needs a time zone: {example}")
    return moment
