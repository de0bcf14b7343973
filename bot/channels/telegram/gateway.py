"""Sends outbox rows to Telegram and says what happened, never raising for channel errors."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import ClientConnectorError

from bot.domain.model import Button, Channel, OutboundMessage
from bot.domain.ports import (
    SendBlocked,
    SendOk,
    SendOutcomeUnknown,
    SendRejected,
    SendResult,
    SendRetryAfter,
    SendTransientError,
)

TELEGRAM_TEXT_LIMIT = 4096


class TelegramGateway:
    channel = Channel.TELEGRAM
    max_text_length = TELEGRAM_TEXT_LIMIT

    def __init__(self, bot: Bot, *, paid_broadcast: bool = False) -> None:
        self._bot = bot
        self._paid_broadcast = paid_broadcast

    async def send(self, message: OutboundMessage) -> SendResult:
        try:
            sent = await self._bot.send_message(
                chat_id=int(message.address),
                text=message.text,
                parse_mode="HTML",
                reply_markup=_keyboard(message.buttons),
                message_thread_id=message.thread_id,
                # Paid broadcast lifts the 30/s limit for marketing sends, at a price in Stars.
                allow_paid_broadcast=(self._paid_broadcast and message.kind.is_marketing) or None,
            )
        except TelegramRetryAfter as exc:
            return SendRetryAfter(float(exc.retry_after), f"429: {exc.message}")
        except TelegramForbiddenError as exc:
            return SendBlocked(f"403: {exc.message}")
        except TelegramMigrateToChat as exc:
            return SendRejected(f"chat migrated to {exc.migrate_to_chat_id}")
        except TelegramBadRequest as exc:
            return SendRejected(f"400: {exc.message}")
        except (TelegramServerError, TelegramUnauthorizedError) as exc:
            return SendTransientError(f"{type(exc).__name__}: {exc.message}")
        except TelegramNetworkError as exc:
            return _network_failure(exc)
        except TelegramAPIError as exc:
            return SendRejected(f"{type(exc).__name__}: {exc.message}")
        return SendOk(str(sent.message_id))


def _network_failure(exc: TelegramNetworkError) -> SendResult:
    if isinstance(exc.__cause__, ClientConnectorError):
        # We could not even connect: the request never left, so trying again is safe.
        return SendTransientError(f"network: {exc.message}")
    # The request may have reached Telegram (timeout, dropped connection): never resend blindly.
    return SendOutcomeUnknown(f"network: {exc.message}")


def _keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=b.text, url=b.url, callback_data=b.callback_data)
                for b in row
            ]
            for row in rows
        ]
    )
