"""Events API: only a request signed with the shop's secret, sent within five minutes, is let
in, and a replayed event id has one effect. Over real HTTP; nothing is stored when refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.events.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, signed_headers
from bot.storage.tables import api_events, contacts
from tests.web.test_events_routes import SECRET, Api, api, event

__all__ = ["api"]  # the fixture, used by name


async def _counts(api: Api) -> tuple[int, int]:
    async with api.storage.engine.connect() as conn:
        events = (await conn.execute(sa.select(sa.func.count()).select_from(api_events))).scalar()
        people = (await conn.execute(sa.select(sa.func.count()).select_from(contacts))).scalar()
    return int(events or 0), int(people or 0)


async def _post_raw(api: Api, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with api.session.post(api.url + "/api/v1/events", data=body, headers=headers) as r:
        return r.status, await r.json()


async def test_an_event_signed_long_ago_is_refused(api: Api) -> None:
    for skew in (-301, -3600, -86400 * 365):
        status, answer = await api.post("/api/v1/events", event(f"old{skew}"), skew=skew)
        assert status == 401 and "away from the server's clock" in answer["error"]
    epoch = json.dumps(event("epoch")).encode()
    headers = {TIMESTAMP_HEADER: "0", SIGNATURE_HEADER: signature(SECRET, 0, epoch)}
    assert (await _post_raw(api, epoch, headers))[0] == 401
    assert await _counts(api) == (0, 0)


async def test_an_event_signed_in_the_future_is_refused(api: Api) -> None:
    for skew in (301, 3600, 86400 * 365):
        status, answer = await api.post("/api/v1/events", event(f"future{skew}"), skew=skew)
        assert status == 401 and "away from the server's clock" in answer["error"]
    assert await _counts(api) == (0, 0)


async def test_a_replayed_event_id_has_one_effect(api: Api) -> None:
    body = json.dumps(event("order-1")).encode()
    captured = signed_headers(SECRET, body, api.clock.now())
    answers = [await _post_raw(api, body, captured) for _ in range(3)]  # the same request
    api.clock.advance(timedelta(seconds=200))
    answers.append(await api.post("/api/v1/events", event("order-1")))  # re-signed later
    assert [status for status, _ in answers] == [202, 200, 200, 200]
    assert [answer.get("duplicate") for _, answer in answers] == [False, True, True, True]
    assert await _counts(api) == (1, 1)
    api.clock.advance(timedelta(seconds=301))  # the captured request is now out of its window
    assert (await _post_raw(api, body, captured))[0] == 401


async def test_a_tampered_body_is_refused(api: Api) -> None:
    original = json.dumps(event("e1")).encode()
    headers = signed_headers(SECRET, original, api.clock.now())
    tampered = [
        original.replace(b"19.9", b"0.01"),  # the data changed
        original.replace(b'"42"', b'"43"'),  # another customer
        original + b" ",  # even whitespace
        original[:-1],  # cut short
    ]
    for body in tampered:
        status, answer = await _post_raw(api, body, headers)
        assert status == 401 and "does not match" in answer["error"], body
    timestamp = int(headers[TIMESTAMP_HEADER])
    moved = {**headers, TIMESTAMP_HEADER: str(timestamp + 1)}  # the signed time changed
    assert (await _post_raw(api, original, moved))[0] == 401
    assert await _counts(api) == (0, 0)


async def test_a_signature_made_with_another_secret_is_refused(api: Api) -> None:
    for secret in ("", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper()):
        status, _ = await api.post("/api/v1/events", event("e1"), secret=secret)
        assert status == 401, secret
    assert await _counts(api) == (0, 0)
