"""The desk's inline buttons: callback data in and out (`d:<verb>:<id>[:<arg>]`, ≤ 64 bytes)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

PREFIX = "d"
MAX_CALLBACK_BYTES = 64  # Telegram refuses longer callback_data
_PATTERN = re.compile(r"^d:([a-z]+):([0-9]{1,18})(?::(.+))?$", re.DOTALL)


class Verb(enum.StrEnum):
    TAKE = "take"
    TRANSFER = "tr"  # show the transfer keyboard
    TRANSFER_TO = "to"  # arg: agent key or team name
    CLOSE = "close"
    BOT = "bot"  # back to bot
    BACK = "back"  # leave the transfer keyboard
    APPROVE = "ok"  # id: the held reply
    REJECT = "no"  # id: the held reply
    REOPEN = "re"  # id: a survey response with a low score


@dataclass(frozen=True, slots=True)
class DeskCallback:
    verb: Verb
    target_id: int  # a hand-off id; a held reply's (APPROVE / REJECT); a survey's (REOPEN)
    arg: str | None = None


def encode(verb: Verb, target_id: int, arg: str | None = None) -> str:
    """The callback data for a button; ValueError when it would not fit Telegram's limit."""
    data = f"{PREFIX}:{verb.value}:{target_id}" + (f":{arg}" if arg is not None else "")
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data longer than {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def fits(verb: Verb, target_id: int, arg: str | None = None) -> bool:
    try:
        encode(verb, target_id, arg)
    except ValueError:
        return False
    return True


def parse(data: str | None) -> DeskCallback | None:
    """The button pressed, or None for data the desk did not make (old or forged buttons)."""
    if not data:
        return None
    match = _PATTERN.match(data)
    if match is None:
        return None
    try:
        verb = Verb(match.group(1))
    except ValueError:
        return None
    arg = match.group(3)
    if (verb is Verb.TRANSFER_TO) != (arg is not None):
        return None  # only a transfer target carries an argument
    return DeskCallback(verb, int(match.group(2)), arg)
