"""Finding the rows that hold a person without naming them by contact id.

Raw inbound updates and a few settings entries carry a Telegram user id or a web chat visitor
token instead of a contact id. A text match (`LIKE`) over the JSON narrows the candidates down in
the database; each candidate is then checked in Python against the structure of the update, so
a number that merely appears in somebody else's message text is not taken for the person.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, bindparam, cast, select

from bot.storage.repositories._base import Connection
from bot.storage.tables import inbound_updates, settings

# Telegram objects that name a user or a chat: a User has `first_name`/`is_bot`, a Chat `type`.
_PERSON_MARKERS = ("first_name", "is_bot", "type", "username")

_INBOUND_CANDIDATES = select(
    inbound_updates.c.id, inbound_updates.c.channel, inbound_updates.c.payload
).where(
    inbound_updates.c.channel == bindparam("of_channel"),
    cast(inbound_updates.c.payload, Text).contains(bindparam("needle"), escape="/"),
)
_SETTINGS_WITH_PREFIX = select(settings.c.key, settings.c.value).where(
    settings.c.key.startswith(bindparam("prefix"), escape="/")
)


def _like_literal(value: str) -> str:
    """`value` matched literally by LIKE ... ESCAPE '/' (tokens hold '_', a LIKE wildcard)."""
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_")


@dataclass(frozen=True, slots=True)
class PersonKeys:
    """How the person appears outside the contact id: per channel, the values naming them."""

    telegram: frozenset[str]  # Telegram user ids and private chat ids
    webchat: frozenset[str]  # web chat visitor tokens

    @classmethod
    def of(cls, identities: Iterable[tuple[str, str, str]]) -> PersonKeys:
        """From (channel, external_id, address) triples."""
        telegram: set[str] = set()
        webchat: set[str] = set()
        for channel, external_id, address in identities:
            target = telegram if channel == "telegram" else webchat
            target.update(value for value in (external_id, address) if value)
        return cls(frozenset(telegram), frozenset(webchat))

    def names(self, channel: str, payload: Any) -> bool:
        """Whether this stored update came from (or was about) the person."""
        if channel == "webchat":
            return isinstance(payload, dict) and payload.get("visitor_token") in self.webchat
        return any(_is_person(node, self.telegram) for node in _walk(payload))


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _is_person(node: dict[str, Any], ids: frozenset[str]) -> bool:
    return str(node.get("id")) in ids and any(marker in node for marker in _PERSON_MARKERS)


async def inbound_rows_of(conn: Connection, keys: PersonKeys) -> list[tuple[int, str]]:
    """(id, channel) of every stored update from the person."""
    found: dict[int, str] = {}
    for channel, values in (("telegram", keys.telegram), ("webchat", keys.webchat)):
        for value in sorted(values):
            params = {"of_channel": channel, "needle": _like_literal(value)}
            for row in await conn.execute(_INBOUND_CANDIDATES, params):
                if row.id not in found and keys.names(row.channel, row.payload):
                    found[row.id] = row.channel
    return sorted(found.items())


async def settings_keys_of(conn: Connection, contact_id: int, keys: PersonKeys) -> list[str]:
    """The settings entries about the person: web chat tokens issued to them, their pending
    link codes (web chat -> Telegram and shop -> Telegram) and their desk topic."""
    wanted: list[str] = [f"webchat:visitor:{token}" for token in sorted(keys.webchat)]
    for row in await conn.execute(_SETTINGS_WITH_PREFIX, {"prefix": _like_literal("link:")}):
        if row.value in keys.webchat:
            wanted.append(row.key)
    for row in await conn.execute(_SETTINGS_WITH_PREFIX, {"prefix": _like_literal("shoplink:")}):
        if _shop_link_contact(row.value) == contact_id:
            wanted.append(row.key)
    wanted.append(f"agent_desk:topic:{contact_id}")
    return wanted


def _shop_link_contact(value: str) -> int | None:
    try:
        entry = json.loads(value)
        return int(entry["contact_id"])
    except (ValueError, TypeError, KeyError):
        return None


def rewritten_keys(rows: Sequence[tuple[int, str]], tokens: frozenset[str]) -> list[int]:
    """Ids of the (id, key) rows whose key names one of the web chat `tokens`."""
    return [row_id for row_id, key in rows if any(token in key for token in tokens)]
