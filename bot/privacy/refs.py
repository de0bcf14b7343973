"""How an operator names a person on the command line: `42`, `telegram:123456`, `email:...`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.events.parsing import EventError, normalise_email, normalise_phone


class RefKind(enum.StrEnum):
    CONTACT = "contact"  # a Nudge contact id
    TELEGRAM = "telegram"  # a Telegram user id
    EMAIL = "email"
    PHONE = "phone"
    EXTERNAL = "external"  # the shop's id of the customer (Events API `external_id`)


class ContactRefError(ValueError):
    """The text does not name a person in a form we understand."""


@dataclass(frozen=True, slots=True)
class PersonRef:
    kind: RefKind
    value: str

    def __str__(self) -> str:
        return self.value if self.kind is RefKind.CONTACT else f"{self.kind}:{self.value}"


_FORMS = "a contact id (42), telegram:<user id>, email:<address>, phone:<number> or external:<id>"


def parse_person_ref(text: str) -> PersonRef:
    """`text` as a PersonRef; ContactRefError saying what is wrong and what is expected."""
    raw = text.strip()
    if raw.isdigit():
        return PersonRef(RefKind.CONTACT, _positive(raw, "a contact id"))
    prefix, sep, value = raw.partition(":")
    value = value.strip()
    if not sep or prefix not in {kind.value for kind in RefKind if kind is not RefKind.CONTACT}:
        raise ContactRefError(f"{text!r} names no contact: use {_FORMS}")
    if not value:
        raise ContactRefError(f"{text!r}: nothing after {prefix!r}: use {_FORMS}")
    kind = RefKind(prefix)
    if kind is RefKind.TELEGRAM:
        return PersonRef(kind, _positive(value, "a Telegram user id"))
    try:
        if kind is RefKind.EMAIL:
            return PersonRef(kind, normalise_email(value) or "")
        if kind is RefKind.PHONE:
            return PersonRef(kind, normalise_phone(value) or "")
    except EventError as exc:
        raise ContactRefError(f"{text!r}: {exc.message}") from None
    return PersonRef(kind, value)


def _positive(value: str, what: str) -> str:
    if not value.isdigit() or int(value) <= 0:
        raise ContactRefError(f"{value!r} is not {what} (a positive whole number)")
    return str(int(value))
