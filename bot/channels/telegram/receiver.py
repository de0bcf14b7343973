"""Receives Telegram updates (webhook or long polling) and stores them before acknowledging.

The webhook answers 200 only after the update is committed; polling asks for the next updates
(which confirms the previous ones to Telegram) only after the commit. A repeated update_id is
stored once, so a redelivery has no second effect.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramConflictError
from aiogram.methods import AnswerCallbackQuery, GetUpdates

from bot.channels.telegram.translate import parse_update
from bot.conversation.inbox import TranslationError
from bot.domain.clock import Clock
from bot.domain.model import Channel
from bot.domain.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram:polling_offset"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
MAX_WEBHOOK_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    status: int
    text: str


class TelegramReceiver:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        on_inbound: Callable[[], None],
        *,
        webhook_secret: str | None = None,
        bot: Bot | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._on_inbound = on_inbound
        self._secret = webhook_secret
        self._bot = bot

    async def receive_webhook(self, secret_header: str | None, body: bytes) -> WebhookAnswer:
        if not self._secret_matches(secret_header):
            return WebhookAnswer(401, "wrong or missing secret token")
        if len(body) > MAX_WEBHOOK_BODY:
            return WebhookAnswer(413, "update too large")
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TranslationError("update is not a JSON object")
            update = parse_update(payload)
        except (ValueError, TranslationError, RecursionError) as exc:  # incl. absurd nesting
            log.warning("rejected a malformed Telegram update: %s", exc)
            return WebhookAnswer(400, f"malformed update: {exc}")
        stored = await self.store([payload])
        if stored:
            self._answer_callback(update.callback_query.id if update.callback_query else None)
        return WebhookAnswer(200, "ok" if stored else "duplicate")

    def _secret_matches(self, given: str | None) -> bool:
        if not self._secret:
            return False  # webhook mode refuses to run without a secret
        # Constant-time comparison so the secret cannot be guessed byte by byte from timings.
        return hmac.compare_digest((given or "").encode(), self._secret.encode())

    async def store(self, payloads: list[dict[str, Any]], next_offset: int | None = None) -> int:
        """Store updates (and the polling offset) in one transaction; returns how many were new."""
        now = self._clock.now()
        new = 0
        async with self._uow() as uow:
            for payload in map(storable, payloads):
                row = await uow.inbound.add(
                    Channel.TELEGRAM,
                    str(payload["update_id"]),
                    payload,
                    now,
                    conversation_key=conversation_key(payload),
                )
                new += row is not None
            if next_offset is not None:
                await uow.settings.put(OFFSET_KEY, str(next_offset))
            await uow.commit()
        if new:
            self._on_inbound()
        return new

    def _answer_callback(self, query_id: str | None) -> None:
        """Stop the button's spinner; it is an acknowledgement, not a message, so no outbox."""
        if query_id is None or self._bot is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._bot(AnswerCallbackQuery(callback_query_id=query_id))
        )
        task.add_done_callback(_log_failure)

    async def poll_forever(self, poll_seconds: int, retry_delay: float = 5.0) -> None:
        """Long polling: store each batch, then ask for the next one from past its last id.

        Telegram forgets updates only when asked for a higher offset, so an update whose batch
        could not be stored (database down) is simply fetched again on the next try.
        """
        if self._bot is None:
            raise RuntimeError("polling needs a bot")
        offset = await self._stored_offset()
        while True:
            try:
                offset = await self._poll_once(offset, poll_seconds)
            except TelegramConflictError:
                log.error("Telegram says a webhook is set or another poller runs; retrying")
                await asyncio.sleep(retry_delay)
            except TelegramAPIError as exc:
                log.warning("getUpdates failed (%s); retrying in %.0fs", exc, retry_delay)
                await asyncio.sleep(retry_delay)
            except Exception:
                log.exception("could not store polled updates; they will be fetched again")
                await asyncio.sleep(retry_delay)

    async def _poll_once(self, offset: int | None, poll_seconds: int) -> int | None:
        assert self._bot is not None
        updates = await self._bot(
            GetUpdates(offset=offset, timeout=poll_seconds, allowed_updates=ALLOWED_UPDATES),
            request_timeout=poll_seconds + 10,
        )
        if not updates:
            return offset
        payloads = [u.model_dump(mode="json", exclude_none=True, by_alias=True) for u in updates]
        next_offset = max(u.update_id for u in updates) + 1
        await self.store(payloads, next_offset=next_offset)
        for update in updates:
            self._answer_callback(update.callback_query.id if update.callback_query else None)
        return next_offset

    async def _stored_offset(self) -> int | None:
        async with self._uow() as uow:
            value = await uow.settings.get(OFFSET_KEY)
        return int(value) if value else None


def storable(value: Any) -> Any:
    """`value` with NUL characters removed and lone surrogates replaced (U+FFFD) in its strings
    and keys: PostgreSQL cannot store either in JSONB (nor text), and one such update would fail
    its whole batch again and again."""
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, dict):
        return {_storable_text(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def _storable_text(text: str) -> str:
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON allows "\\ud800", Unicode does not)
        text = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


def conversation_key(payload: dict[str, Any]) -> str | None:
    """The customer an update comes from: with several workers, one customer's updates are
    handled by one worker at a time, in order (see `bot.storage.repositories.inbound`)."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        item = payload.get(kind)
        sender = item.get("from") if isinstance(item, dict) else None
        if isinstance(sender, dict) and sender.get("id") is not None:
            return f"telegram:{sender['id']}"
    return None


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("answerCallbackQuery failed: %s", task.exception())
