"""The Events API over real HTTP (an aiohttp server on 127.0.0.1, real storage), and the
`nudge events` command talking to it."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config import Secrets, Settings
from bot.domain.clock import FakeClock
from bot.events.service import EventsService
from bot.events.signing import signed_headers
from bot.events_cli import add_events_commands, run_events_command
from bot.storage.uow import Storage
from bot.web.events_routes import add_events_routes

SECRET = "shop-secret-0123456789"


@dataclass
class Api:
    url: str
    storage: Storage
    clock: FakeClock
    session: aiohttp.ClientSession

    async def post(
        self, path: str, payload: Any, *, secret: str = SECRET, skew: float = 0, **headers: str
    ) -> tuple[int, dict[str, Any]]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent_at = self.clock.now() + timedelta(seconds=skew)
        signed = {**signed_headers(secret, body, sent_at), **headers}
        signed = {name: value for name, value in signed.items() if value}
        async with self.session.post(self.url + path, data=body, headers=signed) as response:
            return response.status, await response.json()


async def serve(storage: Storage, clock: FakeClock, secret: str | None) -> web.AppRunner:
    app = web.Application()
    events = EventsService(storage.uow, clock, telegram_username=lambda: "shop_bot")
    add_events_routes(app, events, secret=secret, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


@pytest.fixture
async def api(storage: Storage, clock: FakeClock) -> AsyncIterator[Api]:
    runner = await serve(storage, clock, SECRET)
    host, port = runner.addresses[0][:2]
    async with aiohttp.ClientSession() as session:
        yield Api(f"http://{host}:{port}", storage, clock, session)
    await runner.cleanup()


def event(key: str = "e1", **contact: Any) -> dict[str, Any]:
    return {
        "id": key,
        "type": "cart_abandoned",
        "contact": contact or {"external_id": "42"},
        "data": {"cart": {"total": 19.9}},
    }


async def stored_events(storage: Storage) -> list[str]:
    async with storage.uow() as uow:
        return [event.key for event in await uow.api_events.claim_pending(100)]


async def test_a_signed_event_is_stored_once(api: Api) -> None:
    status, answer = await api.post("/api/v1/events", event())
    assert status == 202
    assert answer["ok"] and not answer["duplicate"] and answer["contact_created"]
    status, again = await api.post("/api/v1/events", event())
    assert (status, again["duplicate"], again["event_id"]) == (200, True, answer["event_id"])
    assert await stored_events(api.storage) == ["e1"]
    async with api.storage.uow() as uow:
        contact = await uow.contacts.find_by_external_id("42")
    assert contact is not None and contact.id == answer["contact_id"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"secret": "not-the-shop-secret-000"}, "does not match"),
        ({"X-Nudge-Signature": ""}, "missing X-Nudge-Signature"),
        ({"X-Nudge-Timestamp": ""}, "missing X-Nudge-Timestamp"),
        ({"skew": 301}, "301 s away"),
        ({"skew": -301}, "301 s away"),
    ],
)
async def test_unsigned_or_stale_requests_are_refused(
    api: Api, options: dict[str, Any], words: str
) -> None:
    status, answer = await api.post("/api/v1/events", event(), **options)
    assert status == 401 and words in answer["error"]
    assert await stored_events(api.storage) == []


@pytest.mark.parametrize("skew", [300, -300])
async def test_five_minutes_off_is_still_accepted(api: Api, skew: int) -> None:
    assert (await api.post("/api/v1/events", event(), skew=skew))[0] == 202


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        (b"{oops", 400, None),
        ({"id": "e1", "type": "x", "contact": {"phone": "abc"}}, 400, "contact.phone"),
        ({"id": "e1", "type": "x"}, 400, "contact"),
        (event(id=999_999), 422, "contact.id"),
        (event(telegram_user_id=12345), 422, "contact.telegram_user_id"),
    ],
)
async def test_bad_bodies_and_unknown_contacts(
    api: Api, payload: Any, status: int, field: str | None
) -> None:
    got, answer = await api.post("/api/v1/events", payload)
    assert got == status and answer["ok"] is False
    assert answer.get("field") == field and answer["error"]


async def test_an_oversized_body_is_refused_unread(api: Api) -> None:
    big = event(data=None)
    big["data"] = {"blob": "x" * (64 * 1024)}
    status, answer = await api.post("/api/v1/events", big)
    assert status == 413 and "65536 bytes" in answer["error"]


async def test_without_a_secret_the_api_is_off(storage: Storage, clock: FakeClock) -> None:
    runner = await serve(storage, clock, None)
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(f"http://{host}:{port}", storage, clock, session)
            status, answer = await api.post("/api/v1/events", event())
    finally:
        await runner.cleanup()
    assert (status, answer["error"]) == (503, "events API disabled: set NUDGE_EVENTS_SECRET")


async def test_a_link_for_a_shop_customer(api: Api) -> None:
    status, answer = await api.post("/api/v1/contacts/link", {"contact": {"email": "A@b.co"}})
    assert status == 200
    assert answer["url"].startswith("https://t.me/shop_bot?start=c_")
    assert answer["expires_at"] == (api.clock.now() + timedelta(days=7)).isoformat()
    status, answer = await api.post(
        "/api/v1/contacts/link", {"contact": {"email": "A@b.co"}}, skew=400
    )
    assert status == 401


def cli_settings(port: int) -> Settings:
    settings = Settings()
    web_settings = settings.web.model_copy(update={"port": port})
    return settings.model_copy(
        update={"web": web_settings, "secrets": Secrets(events_secret=SECRET)}
    )


async def test_the_cli_sends_signed_events(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    """`nudge events send` against the running API (the real clock signs: the FakeClock of the
    server is set to now for this test)."""
    api.clock.set(datetime.now(UTC))
    parser = argparse.ArgumentParser(prog="nudge")
    add_events_commands(parser.add_subparsers(dest="command"))
    port = int(api.url.rsplit(":", 1)[1])
    args = parser.parse_args(
        ["events", "send", "cart_abandoned", "--contact", "external_id=42", "--contact",
         "email=Ada@Example.com", "--data", '{"cart": {"total": 5}}', "--id", "cli-1"]
    )  # fmt: skip
    code = await asyncio.to_thread(run_events_command, args, cli_settings(port))
    out = capsys.readouterr().out
    assert code == 0 and "HTTP 202" in out
    assert await stored_events(api.storage) == ["cli-1"]
    link = parser.parse_args(["events", "link", "--contact", "external_id=42", "--url", api.url])
    assert await asyncio.to_thread(run_events_command, link, cli_settings(1)) == 0
    assert "https://t.me/shop_bot?start=c_" in capsys.readouterr().out
    bad = parser.parse_args(["events", "send", "x", "--contact", "nick=1", "--url", api.url])
    assert await asyncio.to_thread(run_events_command, bad, cli_settings(1)) == 2
    no_secret = Settings()
    assert await asyncio.to_thread(run_events_command, args, no_secret) == 1
