"""Raw HTTP: request encodings, error shapes, the /_fake/ control API and the CLI."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.fake_telegram import FakeTelegramServer, FakeUser

TOKEN = "123:ABC"  # the fixtures in conftest.py register these
ANN_ID = 1001


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, url: str, verb: str = "POST", **kwargs: object
) -> tuple[int, dict[str, Any]]:
    async with http.request(verb, url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.json()


async def test_encodings_and_coercion(
    server: FakeTelegramServer, http: aiohttp.ClientSession, ann: FakeUser
) -> None:
    base = f"{server.base_url}/bot{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = await call(
        http, f"{base}/sendMessage", json={"chat_id": str(ANN_ID), "text": "json"}
    )
    assert (status, body["ok"]) == (200, True)
    form = {"chat_id": str(ANN_ID), "text": "form", "reply_markup": json.dumps(markup)}
    status, _ = await call(http, f"{base}/SENDMESSAGE", data=form)
    assert status == 200
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", str(ANN_ID))
    multipart.add_field("text", "multipart")
    multipart.add_field("disable_notification", "true")
    multipart.add_field("document", b"bytes", filename="a.txt")
    status, _ = await call(http, f"{base}/sendMessage", data=multipart)
    assert status == 200
    status, _ = await call(http, f"{base}/sendmessage?chat_id={ANN_ID}&text=query", "GET")
    assert status == 200
    sent = server.sent_messages(TOKEN)
    assert [m.text for m in sent] == ["json", "form", "multipart", "query"]
    assert sent[1].reply_markup == markup
    params = server.calls("sendMessage")[2].params
    assert params["chat_id"] == ANN_ID and params["disable_notification"] is True


async def test_error_shapes(server: FakeTelegramServer, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, f"{server.base_url}/bot1:NOPE/getMe")
    assert (status, body) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, body = await call(http, f"{server.base_url}/bot{TOKEN}/sendTelepathy")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await call(
        http, f"{server.base_url}/bot{TOKEN}/sendMessage", data={"chat_id": "1", "text": "x"}
    )
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    status, body = await call(
        http,
        f"{server.base_url}/bot{TOKEN}/sendMessage",
        data={"chat_id": "1", "text": "x", "reply_markup": "{nope"},
    )
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


async def test_control_api(server: FakeTelegramServer, http: aiohttp.ClientSession) -> None:
    fake = f"{server.base_url}/_fake"
    status, body = await call(http, f"{fake}/bots", json={"token": "7:X", "username": "b7"})
    assert body["result"]["username"] == "b7"
    await call(http, f"{fake}/users", json={"user_id": 42, "first_name": "Zed"})
    status, body = await call(
        http, f"{fake}/send_text", json={"token": "7:X", "user_id": 42, "text": "/start"}
    )
    assert body["result"]["message"]["entities"][0]["type"] == "bot_command"
    await call(http, f"{fake}/faults", json={"kind": "retry_after", "seconds": 2, "token": "7:X"})
    status, body = await call(
        http, f"{server.base_url}/bot7:X/sendMessage", json={"chat_id": 42, "text": "a"}
    )
    assert (status, body["parameters"]) == (429, {"retry_after": 2})
    await call(http, f"{server.base_url}/bot7:X/sendMessage", json={"chat_id": 42, "text": "b"})
    status, body = await call(http, f"{fake}/messages?token=7:X", "GET")
    assert [m["text"] for m in body["result"]["messages"]] == ["b"]
    status, body = await call(http, f"{fake}/stats?token=7:X&window=1", "GET")
    assert body["result"]["calls"]["sendMessage"] == {"200": 1, "429": 1}
    assert body["result"]["max_sends_in_window"] == 1
    status, body = await call(http, f"{fake}/faults", json={"kind": "melt"})
    assert status == 400 and not body["ok"]
    await call(http, f"{fake}/reset")
    assert server.calls() == []
    status, body = await call(http, f"{fake}/", "GET")
    assert "POST /_fake/send_text" in body["result"]["endpoints"]


async def test_a_second_address_serves_the_same_bot_and_calls_say_which_one(
    server: FakeTelegramServer, http: aiohttp.ClientSession
) -> None:
    fake = f"{server.base_url}/_fake"
    _, body = await call(http, f"{fake}/listen", json={})
    other = body["result"]["base_url"]
    assert other.startswith("http://127.0.0.1:") and other != server.base_url
    await call(http, f"{server.base_url}/bot{TOKEN}/getMe")
    await call(http, f"{other}/bot{TOKEN}/getMe")
    await call(http, f"{other}/bot{TOKEN}/getUpdates", json={"timeout": 0})
    _, body = await call(http, f"{fake}/calls?token={TOKEN}&method=getMe", "GET")
    ports = [c["port"] for c in body["result"]]
    assert ports == [server.port, int(other.rsplit(":", 1)[1])]
    _, body = await call(http, f"{fake}/calls?token={TOKEN}", "GET")
    assert [(c["method"], c["status"]) for c in body["result"]] == [
        ("getMe", 200),
        ("getMe", 200),
        ("getUpdates", 200),
    ]


async def test_cli_serves_until_terminated() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.fake_telegram",
        "--port",
        "0",
        "--token",
        "55:CLI=cli_bot",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        base_url = line.decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as http:
            _, body = await call(http, f"{base_url}/bot55:CLI/getMe")
        assert body["result"]["username"] == "cli_bot"
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
