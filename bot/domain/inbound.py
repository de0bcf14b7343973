"""What a channel hands to the conversation service, already translated from its own format."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.domain.model import Channel


class InboundKind(enum.StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"  # an inline button press carrying callback data
    BLOCKED = "blocked"  # the customer blocked the bot
    UNBLOCKED = "unblocked"  # the customer allowed the bot again


@dataclass(frozen=True, slots=True)
class Sender:
    """The customer as the channel sees them."""

    channel: Channel
    external_id: str
    address: str
    display_name: str
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One thing a customer did, with the key of the stored update it came from."""

    update_key: str  # unique per channel: used to derive stable keys for the replies
    sender: Sender
    kind: InboundKind
    text: str = ""
    command: str | None = None  # without the slash, lower case: "start", "help", "stop"
    command_args: str = ""  # e.g. the deep-link payload of /start
    callback_data: str | None = None
    channel_message_id: str | None = None
