"""The frames: what the widget may send is validated, what the server sends is well formed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.webchat.protocol import (
    MAX_FRAME_BYTES,
    MAX_TEXT_LENGTH,
    ButtonPress,
    ChatText,
    Hello,
    Invalid,
    LinkTelegram,
    ack_frame,
    error_frame,
    history_item,
    message_frame,
    parse_client_frame,
    telegram_link_frame,
    welcome_frame,
)
from bot.domain.model import Button, Channel, Direction, Message, Sender

TOKEN = "Abcdefghijklmnopqrstuvwxyz012345"
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def parse(frame: Any) -> Any:
    return parse_client_frame(json.dumps(frame))


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"type": "hello", "visitor_token": None, "language": None}, Hello(None, None)),
        ({"type": "hello"}, Hello(None, None)),
        ({"type": "hello", "visitor_token": TOKEN, "language": "de-AT"}, Hello(TOKEN, "de-AT")),
        ({"type": "message", "client_id": "a-1_B", "text": "hi"}, ChatText("a-1_B", "hi")),
        ({"type": "message", "client_id": "x", "text": "é" * 4000}, ChatText("x", "é" * 4000)),
        ({"type": "button", "client_id": "c1", "data": "kb:42"}, ButtonPress("c1", "kb:42")),
        ({"type": "link_telegram"}, LinkTelegram()),
        ({"type": "link_telegram", "extra": [1, 2]}, LinkTelegram()),  # extra fields ignored
    ],
)
def test_valid_frames_parse(frame: Any, expected: Any) -> None:
    assert parse(frame) == expected


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ({"type": "shout"}, "Unknown frame type"),
        ({}, "'type'"),
        ({"type": 3}, "'type'"),
        ([1, 2], "JSON object"),
        ("hello", "JSON object"),
        ({"type": "message", "text": "hi"}, "client id"),
        ({"type": "message", "client_id": "", "text": "hi"}, "client id"),
        ({"type": "message", "client_id": "a b", "text": "hi"}, "client id"),
        ({"type": "message", "client_id": "é", "text": "hi"}, "client id"),
        ({"type": "message", "client_id": "x" * 65, "text": "hi"}, "client id"),
        ({"type": "message", "client_id": 7, "text": "hi"}, "client id"),
        ({"type": "message", "client_id": "c"}, "string"),
        ({"type": "message", "client_id": "c", "text": 5}, "string"),
        ({"type": "message", "client_id": "c", "text": True}, "string"),
        ({"type": "message", "client_id": "c", "text": ["hi"]}, "string"),
        ({"type": "message", "client_id": "c", "text": "   "}, "empty"),
        ({"type": "message", "client_id": "c", "text": "x" * 4001}, "longer than 4000"),
        ({"type": "message", "client_id": "c", "text": "a\x00b"}, "NUL"),
        ({"type": "message", "client_id": "c", "text": "\ud800"}, "Unicode"),
        ({"type": "button", "client_id": "c"}, "button data"),
        ({"type": "button", "client_id": "c", "data": ""}, "button data"),
        ({"type": "button", "client_id": "c", "data": "d" * 300}, "too long"),
        ({"type": "hello", "visitor_token": 12}, "visitor token"),
        ({"type": "hello", "visitor_token": "short"}, "visitor token"),
        ({"type": "hello", "language": "<script>"}, "language"),
    ],
)
def test_invalid_frames_get_a_sentence(frame: Any, problem: str) -> None:
    result = parse(frame)
    assert isinstance(result, Invalid)
    assert problem in result.message
    assert result.message.endswith(".")


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe", "{", "", "null", "[" * 100_000, "1" * 10_000, "x" * (MAX_FRAME_BYTES + 1)],
)
def test_garbage_is_refused_not_raised(raw: str | bytes) -> None:
    assert isinstance(parse_client_frame(raw), Invalid)


def test_bytes_frames_are_accepted_like_text() -> None:
    raw = json.dumps({"type": "message", "client_id": "c", "text": "hi"}).encode()
    assert parse_client_frame(raw) == ChatText("c", "hi")


# --- fuzzing: whatever arrives, the answer is a valid frame or an Invalid, never an exception ---

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
field_values = st.one_of(
    json_values,
    st.text(max_size=80),
    st.text(alphabet="abcXYZ019_-", min_size=0, max_size=70),
    st.text(min_size=3990, max_size=4010),
)
frames = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["hello", "message", "button", "link_telegram", "nope"])
        | json_values
    },
    optional={
        "client_id": field_values,
        "text": field_values,
        "data": field_values,
        "visitor_token": field_values,
        "language": field_values,
    },
)


def check_result(result: object) -> None:
    if isinstance(result, Invalid):
        assert isinstance(result.message, str) and result.message
        return
    if isinstance(result, ChatText):
        assert isinstance(result.text, str) and 0 < len(result.text) <= MAX_TEXT_LENGTH
        assert result.text.strip() and "\x00" not in result.text
        result.text.encode("utf-8")
    if isinstance(result, ChatText | ButtonPress):
        assert 1 <= len(result.client_id) <= 64
        assert all(c.isascii() and (c.isalnum() or c in "-_") for c in result.client_id)
    if isinstance(result, ButtonPress):
        assert isinstance(result.data, str) and result.data
    if isinstance(result, Hello):
        assert result.visitor_token is None or isinstance(result.visitor_token, str)
    assert isinstance(result, Hello | ChatText | ButtonPress | LinkTelegram)


@settings(max_examples=400)
@given(frames)
def test_fuzzed_frames_never_crash(frame: dict[str, Any]) -> None:
    check_result(parse_client_frame(json.dumps(frame)))


@settings(max_examples=200)
@given(json_values)
def test_fuzzed_json_never_crashes(value: Any) -> None:
    check_result(parse_client_frame(json.dumps(value)))


@settings(max_examples=200)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_fuzzed_raw_input_never_crashes(raw: bytes | str) -> None:
    check_result(parse_client_frame(raw))


# --- server frames ---


def message(direction: Direction, text: str, outbox_id: int | None = None) -> Message:
    sender = Sender.CUSTOMER if direction is Direction.INBOUND else Sender.BOT
    return Message(
        id=11,
        conversation_id=1,
        contact_id=1,
        direction=direction,
        sender=sender,
        channel=Channel.WEBCHAT,
        text=text,
        created_at=AT,
        outbox_id=outbox_id,
    )


def test_history_escapes_what_the_visitor_typed_and_keeps_the_bots_html() -> None:
    typed = history_item(message(Direction.INBOUND, "<b>1 < 2</b> & 'q'"))
    assert typed == {
        "id": "m-11",
        "direction": "in",
        "sender": "customer",
        "html": "&lt;b&gt;1 &lt; 2&lt;/b&gt; &amp; 'q'",
        "at": "2026-01-05T09:00:00+00:00",
    }
    reply = history_item(message(Direction.OUTBOUND, "<b>Hi</b>", outbox_id=5))
    assert reply["html"] == "<b>Hi</b>"
    assert reply["id"] == "web-5"  # the id the gateway pushes for outbox row 5
    assert reply["direction"] == "out"


def test_server_frames_are_json() -> None:
    buttons = [[Button("Docs", url="https://x.example")], [Button("Yes", callback_data="y")]]
    frames_out = [
        welcome_frame(TOKEN, [message(Direction.INBOUND, "hi")]),
        ack_frame("c1", duplicate=True),
        message_frame("web-1", "<i>x</i>", buttons, AT),
        telegram_link_frame(None, "No Telegram."),
        telegram_link_frame("https://t.me/shop?start=w_x"),
        error_frame("Nope."),
    ]
    decoded = [json.loads(json.dumps(frame)) for frame in frames_out]
    assert [frame["type"] for frame in decoded] == [
        "welcome",
        "ack",
        "message",
        "telegram_link",
        "telegram_link",
        "error",
    ]
    assert decoded[2]["buttons"] == [
        [{"text": "Docs", "url": "https://x.example"}],
        [{"text": "Yes", "data": "y"}],
    ]
    assert decoded[3] == {"type": "telegram_link", "url": None, "reason": "No Telegram."}
    assert "reason" not in decoded[4]
    assert decoded[1] == {"type": "ack", "client_id": "c1", "duplicate": True}
