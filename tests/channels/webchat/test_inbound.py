"""Stored web chat payloads become the same domain events as Telegram updates."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.webchat.inbound import to_event
from bot.domain.clock import FakeClock
from bot.domain.inbound import InboundKind, Sender
from bot.domain.model import Channel, InboundStatus, InboundUpdate

TOKEN = "tok_ABCDEFGHIJKLMNOPQRSTUVWXYZ01"


def update(payload: dict[str, Any], channel: Channel = Channel.WEBCHAT) -> InboundUpdate:
    return InboundUpdate(
        id=1,
        channel=channel,
        external_key=f"{TOKEN}:c1",
        payload=payload,
        status=InboundStatus.PENDING,
        received_at=FakeClock().now(),
    )


def text_payload(text: str) -> dict[str, Any]:
    return {
        "visitor_token": TOKEN,
        "type": "message",
        "client_id": "c1",
        "text": text,
        "language": "de",
        "display_name": "Web visitor",
    }


def test_a_text_message() -> None:
    event = to_event(update(text_payload("Where is my order?")))

    assert event.kind is InboundKind.TEXT
    assert event.text == "Where is my order?"
    assert event.command is None
    assert event.update_key == f"webchat:{TOKEN}:c1"
    assert event.channel_message_id == "c1"
    assert event.sender == Sender(
        channel=Channel.WEBCHAT,
        external_id=TOKEN,
        address=TOKEN,
        display_name="Web visitor",
        language_code="de",
    )


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/start", "start", ""),
        ("/START promo_spring", "start", "promo_spring"),
        ("  /help  ", "help", ""),
        ("/stop please now", "stop", "please now"),
        ("/start@shop_bot ref\n42", "start", "ref\n42"),
        ("/start\tx", "start", "x"),
    ],
)
def test_a_slash_makes_a_command(text: str, command: str, args: str) -> None:
    event = to_event(update(text_payload(text)))
    assert event.kind is InboundKind.COMMAND
    assert (event.command, event.command_args) == (command, args)
    assert event.text == text


@pytest.mark.parametrize("text", ["/", "/ start", "a /start", "//"])
def test_a_lone_slash_is_just_text(text: str) -> None:
    assert to_event(update(text_payload(text))).kind is InboundKind.TEXT


def test_a_button_press() -> None:
    payload = {
        "visitor_token": TOKEN,
        "type": "button",
        "client_id": "c1",
        "data": "kb:shipping",
        "language": None,
        "display_name": "Web visitor",
    }
    event = to_event(update(payload))
    assert event.kind is InboundKind.BUTTON
    assert event.callback_data == "kb:shipping"
    assert event.sender.language_code is None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"type": "message", "client_id": "c1", "text": "hi"},  # no visitor
        {"visitor_token": TOKEN, "type": "sticker", "client_id": "c1"},
        {"visitor_token": TOKEN, "type": "message", "client_id": "c1"},
        {"visitor_token": TOKEN, "type": "button", "client_id": "c1", "data": 3},
    ],
)
def test_a_malformed_payload_is_a_value_error(payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        to_event(update(payload))


def test_a_telegram_update_is_refused() -> None:
    with pytest.raises(ValueError):
        to_event(update(text_payload("hi"), channel=Channel.TELEGRAM))
