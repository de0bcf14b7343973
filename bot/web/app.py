"""Nudge's HTTP surface, assembled from the parts the composition root hands over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.telegram.receiver import TelegramReceiver

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build_web_app(
    health: HealthCheck,
    *,
    telegram: TelegramReceiver | None = None,
    webhook_path: str = "/telegram/webhook",
) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def healthz(request: web.Request) -> web.Response:
        report = await health()
        status = 200 if report.get("ok") else 503
        return web.json_response(report, status=status)

    app.router.add_get("/healthz", healthz)
    if telegram is not None:
        app.router.add_post(webhook_path, _webhook_handler(telegram))
    return app


def _webhook_handler(
    receiver: TelegramReceiver,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        answer = await receiver.receive_webhook(request.headers.get(SECRET_HEADER), body)
        return web.Response(status=answer.status, text=answer.text)

    return handle
