"""The reference for bench/inbound.py: a bare aiogram echo bot behind a webhook.

It parses each update with aiogram, routes it through aiogram's Dispatcher and answers with
`message.answer(text)`: no storage, no outbox. Nudge's figure is set against this one.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

router = Router()


@router.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "?")


async def main(token: str, api_server: str, port: int, secret: str) -> None:
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_server)))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=secret).register(app, "/webhook")
    app.router.add_get("/healthz", lambda request: web.Response(text="ok"))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await bot.session.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
