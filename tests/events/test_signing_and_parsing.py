"""The signature and the body checks, without HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.events import ContactRef
from bot.events.parsing import EventError, normalise_email, normalise_phone, parse_event
from bot.events.signing import signature, signed_headers, verify

SECRET = "s3cret-s3cret-s3cret"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BODY = b'{"id":"1"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1767603600." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1767603600, BODY) == f"sha256={expected}"
    headers = signed_headers(SECRET, BODY, NOW)
    assert headers["X-Nudge-Timestamp"] == str(int(NOW.timestamp()))
    assert (
        verify(SECRET, headers["X-Nudge-Timestamp"], headers["X-Nudge-Signature"], BODY, NOW)
        is None
    )


@pytest.mark.parametrize(
    ("skew", "accepted"), [(0, True), (300, True), (-300, True), (301, False), (-301, False)]
)
def test_the_replay_window_is_five_minutes_either_way(skew: int, accepted: bool) -> None:
    sent = NOW + timedelta(seconds=skew)
    headers = signed_headers(SECRET, BODY, sent)
    problem = verify(SECRET, headers["X-Nudge-Timestamp"], headers["X-Nudge-Signature"], BODY, NOW)
    assert (problem is None) is accepted
    if not accepted:
        assert problem is not None and f"{abs(skew)} s away" in problem


def test_what_is_wrong_is_named() -> None:
    headers = signed_headers(SECRET, BODY, NOW)
    stamp, good = headers["X-Nudge-Timestamp"], headers["X-Nudge-Signature"]
    assert "missing X-Nudge-Timestamp" in str(verify(SECRET, None, good, BODY, NOW))
    assert "missing X-Nudge-Signature" in str(verify(SECRET, stamp, "", BODY, NOW))
    assert "unix seconds" in str(verify(SECRET, "yesterday", good, BODY, NOW))
    assert "sha256=<hex>" in str(verify(SECRET, stamp, good.removeprefix("sha256="), BODY, NOW))
    assert "does not match" in str(verify(SECRET, stamp, good, BODY + b" ", NOW))
    assert "does not match" in str(verify("another-secret-123", stamp, good, BODY, NOW))
    assert verify(SECRET, stamp, good.upper().replace("SHA256=", "sha256="), BODY, NOW) is None


def event(**fields: object) -> bytes:
    base: dict[str, object] = {"id": "e1", "type": "cart_abandoned", "contact": {"external_id": 42}}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


def test_a_good_event() -> None:
    parsed = parse_event(event(data={"cart": {"total": 3}}, occurred_at="2026-01-05T08:00:00Z"))
    assert (parsed.key, parsed.type, parsed.data) == (
        "e1",
        "cart_abandoned",
        {"cart": {"total": 3}},
    )
    assert parsed.contact == ContactRef(external_id="42")
    assert parsed.occurred_at == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert parse_event(event()).data == {}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"[1, 2]", None, "JSON object"),
        (b"\xff\xfe", None, "not valid JSON"),
        (event(id=None), "id", "required"),
        (event(id=""), "id", "not be empty"),
        (event(id="x" * 256), "id", "at most 255"),
        (event(type=None), "type", "required"),
        (event(type="Cart Abandoned"), "type", "lower-case"),
        (event(contact=None), "contact", "required"),
        (event(contact={}), "contact", "needs one of"),
        (event(contact={"external_id": 42, "nick": "x"}), "contact.nick", "unknown field"),
        (event(contact={"id": -3}), "contact.id", "positive integer"),
        (event(contact={"telegram_user_id": True}), "contact.telegram_user_id", "positive integer"),
        (event(contact={"phone": "call me"}), "contact.phone", "international form"),
        (event(contact={"email": "ada"}), "contact.email", "email address"),
        (event(contact={"external_id": [1]}), "contact.external_id", "string or an integer"),
        (event(data=[1]), "data", "JSON object"),
        (event(occurred_at="yesterday"), "occurred_at", "ISO 8601"),
        (event(occurred_at="2026-01-05T08:00:00"), "occurred_at", "time zone"),
        (event(extra=1), "extra", "unknown field"),
    ],
)
def test_malformed_bodies_name_the_field(body: bytes, field: str | None, words: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event(body)
    assert caught.value.status == 400
    assert caught.value.field == field
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("+1 (555) 010-0000", "+15550100000"),
        ("0044 20 7946 0000", "+442079460000"),
        ("373-69-000-000", "+37369000000"),
        (37369000000, "+37369000000"),
    ],
)
def test_phones_are_normalised(raw: object, normal: str) -> None:
    assert normalise_phone(raw) == normal


@pytest.mark.parametrize("raw", ["+12", "+1234567890123456", "+1 555 ext 9", "+١٢٣٤٥٦٧٨"])
def test_bad_phones(raw: str) -> None:
    with pytest.raises(EventError):
        normalise_phone(raw)


def test_emails_are_lower_case() -> None:
    assert normalise_email("  Ada@Example.COM ") == "ada@example.com"
