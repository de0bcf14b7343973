"""A fake Telegram Bot API server speaking real HTTP, for tests, benchmarks and demos.

Real clients (aiogram, python-telegram-bot) point at :attr:`FakeTelegramServer.base_url`;
the Python control API (or the ``/_fake/`` HTTP routes) plays the users and injects faults::

    async with FakeTelegramServer() as server:
        bot = server.add_bot("123:ABC", username="nudge_bot")
        ann = server.add_user(1001, "Ann")
        await server.send_text(bot, ann, "/start")
        messages = await server.wait_for_messages(bot, 1, chat_id=ann.id)

Modules: ``server`` (the class), ``api_http`` (``/bot{token}/{method}``), ``methods_*``
(the Bot API methods), ``params`` (request parsing), ``tg_html``/``entities`` (text
rules), ``faults``, ``webhook``, ``simulate`` (user actions), ``observe`` (queries),
``control_http`` (``/_fake/``), ``cli`` (``python -m bot.fake_telegram``).
"""

from bot.fake_telegram.errors import ApiError
from bot.fake_telegram.faults import Fault, FaultKind
from bot.fake_telegram.models import (
    ApiCall,
    CallbackAnswer,
    FakeBot,
    FakeGroup,
    FakeUser,
    ForumTopic,
    SentMessage,
    WebhookDelivery,
)
from bot.fake_telegram.server import FakeTelegramServer

__all__ = [
    "ApiCall",
    "ApiError",
    "CallbackAnswer",
    "FakeBot",
    "FakeGroup",
    "FakeTelegramServer",
    "FakeUser",
    "Fault",
    "FaultKind",
    "ForumTopic",
    "SentMessage",
    "WebhookDelivery",
]
