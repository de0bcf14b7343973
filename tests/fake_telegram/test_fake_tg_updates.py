"""Updates: getUpdates long polling and offsets, webhook pushes with secret and retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiohttp import web

from bot.fake_telegram import FakeTelegramServer, FakeUser

TOKEN = "123:ABC"  # the fixtures in conftest.py register these
ANN_ID = 1001
SECRET = "s3cret_Token-1"


async def test_long_poll_returns_a_new_message_and_offset_confirms_it(
    server: FakeTelegramServer, aiogram_bot: Bot
) -> None:
    ann = server.add_user(ANN_ID, "Ann")
    poll = asyncio.create_task(aiogram_bot.get_updates(timeout=10))
    await server.wait_for_long_poll(TOKEN)
    sent = await server.send_text(TOKEN, ann, "/start ref_42")
    [update] = await poll
    assert update.update_id == sent["update_id"]
    assert update.message is not None and update.message.text == "/start ref_42"
    assert update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"

    again = await aiogram_bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [update.update_id]  # not confirmed yet
    assert await aiogram_bot.get_updates(offset=update.update_id + 1, timeout=0) == []
    assert server.pending_updates(TOKEN) == []
    await server.wait_for_updates_confirmed(TOKEN, 1)


async def test_limit_allowed_updates_and_push_update(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    await server.set_blocked(TOKEN, ann)
    raw = await server.push_update(TOKEN, {"message": {"garbage": True}})
    assert raw["update_id"] == 3
    first = await aiogram_bot.get_updates(limit=1, allowed_updates=["my_chat_member"])
    assert [u.update_id for u in first] == [2]
    assert first[0].my_chat_member is not None
    assert first[0].my_chat_member.new_chat_member.status == "kicked"


async def test_a_second_poller_ends_the_first_with_conflict(
    server: FakeTelegramServer, aiogram_bot: Bot
) -> None:
    first = asyncio.create_task(aiogram_bot.get_updates(timeout=10))
    await server.wait_for_long_poll(TOKEN)
    second = asyncio.create_task(aiogram_bot.get_updates(timeout=10))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    ann = server.add_user(ANN_ID, "Ann")
    await server.send_text(TOKEN, ann, "for the survivor")
    [update] = await second
    assert update.message is not None and update.message.text == "for the survivor"


@dataclass
class Receiver:
    """A tiny webhook endpoint answering with scripted statuses (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((body, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield hook
    await runner.cleanup()


async def test_webhook_delivery_with_secret_and_conflict_for_polling(
    server: FakeTelegramServer, aiogram_bot: Bot, receiver: Receiver
) -> None:
    ann = server.add_user(ANN_ID, "Ann")
    assert await aiogram_bot.set_webhook(receiver.url, secret_token=SECRET)
    update = await server.send_text(TOKEN, ann, "hi")
    await server.wait_for_webhook_deliveries(TOKEN, 1)
    assert receiver.received == [(update, SECRET)]
    assert server.webhook_statuses(TOKEN) == [200]
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await aiogram_bot.get_updates()
    info = await aiogram_bot.get_webhook_info()
    assert info.url == receiver.url and info.pending_update_count == 0

    assert await aiogram_bot.delete_webhook()
    await server.send_text(TOKEN, ann, "back to polling")
    [polled] = await aiogram_bot.get_updates()
    assert polled.message is not None and polled.message.text == "back to polling"


async def test_webhook_retries_in_order_and_redelivers_on_demand(
    server: FakeTelegramServer, aiogram_bot: Bot, receiver: Receiver
) -> None:
    ann = server.add_user(ANN_ID, "Ann")
    receiver.statuses = [500, 502]
    first = await server.send_text(TOKEN, ann, "one")
    second = await server.send_text(TOKEN, ann, "two")
    await aiogram_bot.set_webhook(receiver.url)
    await server.wait_for_webhook_deliveries(TOKEN, 4)
    assert server.webhook_statuses(TOKEN) == [500, 502, 200, 200]
    assert [body["update_id"] for body, _ in receiver.received] == [
        first["update_id"],
        first["update_id"],
        first["update_id"],
        second["update_id"],
    ]
    info = await aiogram_bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 502"

    assert await server.deliver_webhook(TOKEN, first) == 200
    assert receiver.received[-1] == (first, None)


async def test_webhook_connection_errors_are_retried(
    server: FakeTelegramServer, aiogram_bot: Bot, receiver: Receiver
) -> None:
    ann = server.add_user(ANN_ID, "Ann")
    await aiogram_bot.set_webhook("http://127.0.0.1:9/nothing-listens-here")
    await server.send_text(TOKEN, ann, "hi")
    await server.wait_for_webhook_deliveries(TOKEN, 2)
    assert server.webhook_statuses(TOKEN)[:2] == [0, 0]
    await aiogram_bot.set_webhook(receiver.url, drop_pending_updates=False)
    await server.wait_for_updates_confirmed(TOKEN, 1)
    assert [body["message"]["text"] for body, _ in receiver.received] == ["hi"]
