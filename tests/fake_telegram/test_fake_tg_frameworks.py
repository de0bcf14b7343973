"""Whole frameworks against the fake: aiogram's Dispatcher and PTB's Application polling."""

from __future__ import annotations

import asyncio

import telegram
from aiogram import Bot, Dispatcher
from aiogram.filters import CommandStart
from aiogram.types import Message
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.fake_telegram import FakeTelegramServer

TOKEN = "123:ABC"  # the fixtures in conftest.py register these


async def test_aiogram_dispatcher_polls_and_replies(
    server: FakeTelegramServer, aiogram_bot: Bot
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(f"<b>Hi</b> {message.text}", parse_mode="HTML")

    polling = asyncio.create_task(
        dispatcher.start_polling(aiogram_bot, handle_signals=False, close_bot_session=False)
    )
    try:
        ann = server.add_user(1001, "Ann")
        await server.send_text(TOKEN, ann, "/start ref")
        [reply] = await server.wait_for_messages(TOKEN, 1, chat_id=ann.id)
        assert reply.plain_text == "Hi /start ref"
        await server.wait_for_updates_confirmed(TOKEN, 1)
    finally:
        await dispatcher.stop_polling()
        await polling


async def test_ptb_application_polls_and_replies(server: FakeTelegramServer) -> None:
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome, agent")

    application = Application.builder().token(TOKEN).base_url(f"{server.base_url}/bot").build()
    application.add_handler(CommandHandler("start", start))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            agent = server.add_user(3003, "Agent")
            await server.send_text(TOKEN, agent, "/start")
            [reply] = await server.wait_for_messages(TOKEN, 1, chat_id=agent.id)
            assert reply.text == "Welcome, agent"
        finally:
            await application.updater.stop()
            await application.stop()
