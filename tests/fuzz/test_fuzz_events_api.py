"""Fuzzed Events API bodies, signed correctly: a 2xx with the event stored as sent, or a 4xx
with a sentence and nothing stored (no event, no contact). Over real HTTP, both databases."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.events.signing import signed_headers
from bot.storage.tables import api_events, contacts
from tests.fuzz.strategies import hostile_text, json_objects, json_values
from tests.web.test_events_routes import SECRET, Api, api

__all__ = ["api"]  # the fixture, used by name

maybe = st.one_of  # readability: a valid form or a damaged one
keys = maybe(st.from_regex(r"[A-Za-z0-9:_\-]{1,40}", fullmatch=True), st.integers(), json_values)
types = maybe(
    st.from_regex(r"[a-z][a-z0-9_]{0,20}(\.[a-z][a-z0-9_]{0,10})?", fullmatch=True), json_values
)
contact_refs = maybe(
    st.fixed_dictionaries(
        {},
        optional={
            "external_id": maybe(st.from_regex(r"[a-z0-9\-]{1,20}", fullmatch=True), json_values),
            "email": maybe(st.emails(), hostile_text),
            "phone": maybe(st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True), hostile_text),
            "id": maybe(st.integers(min_value=-5, max_value=10**12), json_values),
            "telegram_user_id": st.integers(min_value=-5, max_value=10**12),
            "name": hostile_text,
        },
    ),
    json_values,
)
moments = maybe(
    st.sampled_from(["2026-01-05T09:00:00Z", "2026-01-05T09:00:00", "soon"]), json_values
)
event_bodies = st.fixed_dictionaries(
    {"id": keys, "type": types, "contact": contact_refs},
    optional={
        "data": maybe(json_objects, json_values),
        "occurred_at": moments,
        "extra": json_values,
    },
)
bodies = st.one_of(
    event_bodies.map(lambda body: json.dumps(body).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
)


async def _counts(api: Api) -> tuple[int, int]:
    async with api.storage.engine.connect() as conn:
        found = []
        for table in (api_events, contacts):
            found.append(
                (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()
            )
    return int(found[0] or 0), int(found[1] or 0)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
@example(body=json.dumps({"id": "nul", "type": "t", "contact": {"external_id": "a"},
                          "data": {"note": "a\u0000b"}}).encode())  # fmt: skip
@example(
    body=json.dumps({"id": "nul2", "type": "t", "contact": {"external_id": "a\u0000"}}).encode()
)
@example(body=json.dumps({"id": "n\u0000", "type": "t", "contact": {"email": "a@b.co"}}).encode())
@example(body=b'{"id": "s", "type": "t", "contact": {"external_id": "a"}, "data": {"\\ud800": 1}}')
@example(body=b'{"id": "s2", "type": "t", "contact": {"name": "\\udfff", "email": "a@b.co"}}')
@example(body=b"[" * 30_000 + b"]" * 30_000)  # deeper than the JSON decoder goes
@example(body=b'{"data": ' * 5_000 + b"1" + b"}" * 5_000)
async def test_any_signed_body_is_stored_as_sent_or_refused_whole(api: Api, body: bytes) -> None:
    before = await _counts(api)
    headers = signed_headers(SECRET, body, api.clock.now())
    async with api.session.post(api.url + "/api/v1/events", data=body, headers=headers) as r:
        status, answer = r.status, await r.json()
    after = await _counts(api)
    assert status in (200, 202, 400, 409, 413, 422), (status, answer)
    if status >= 400:
        assert answer["ok"] is False and isinstance(answer["error"], str) and answer["error"]
        assert after == before, "a refused request stored something"
        return
    sent: dict[str, Any] = json.loads(body)
    async with api.storage.uow() as uow:
        stored = await uow.api_events.get_by_key(str(sent["id"]))
    assert stored is not None
    if status == 202:  # new: stored exactly as sent
        assert after[0] == before[0] + 1
        assert stored.type == sent["type"] and stored.data == sent.get("data", {})
    else:  # a repeat of an id seen before: nothing new
        assert after[0] == before[0]
