"""Fixtures for the fake Telegram server's own tests: a started server and real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.fake_telegram import FakeTelegramServer, FakeUser

TOKEN = "123:ABC"
ANN_ID = 1001
GROUP_ID = -100123


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(webhook_retry_base=0.01, webhook_retry_max=0.05) as fake:
        fake.add_bot(TOKEN, username="nudge_bot", first_name="Nudge")
        yield fake


@pytest.fixture
async def ann(server: FakeTelegramServer) -> FakeUser:
    """A user who has written to the bot (so the bot may write to her)."""
    user = server.add_user(ANN_ID, first_name="Ann", username="ann", language_code="en")
    await server.send_text(TOKEN, user, "hello")
    return user


@pytest.fixture
async def aiogram_bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    bot = Bot(TOKEN, session=session)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
async def ptb_bot(server: FakeTelegramServer) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=f"{server.base_url}/bot") as bot:
        yield bot
