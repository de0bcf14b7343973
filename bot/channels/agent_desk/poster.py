"""Writes to the agents' group within Telegram's limits, waiting out 429s.

Every post, topic creation and rename leaves a message in the group, so all of them take a
turn from the rate limiter (20 messages a minute per group, one a second per chat). A 429
blocks the group for `retry_after` and the same call is made again after the wait: retrying
the *call*, not the whole event, so a summary that went out is not posted twice.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, ForumTopic, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest, RetryAfter

from bot.delivery.ratelimit import RateLimiter
from bot.domain.clock import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
MAX_FLOOD_WAITS = 10  # consecutive 429s for one call before it counts as a failure
_PARSE_MODE = "HTML"


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that an int retry_after will become a timedelta; both are handled.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class DeskPoster:
    def __init__(self, bot: Bot, limiter: RateLimiter, clock: Clock, sleep: Sleep) -> None:
        self.bot = bot
        self._limiter = limiter
        self._clock = clock
        self._sleep = sleep

    async def call(self, chat_id: int, make: Callable[[], Awaitable[T]]) -> T:
        """Make one Bot API request to `chat_id` when the limits allow, again after each 429."""
        key = str(chat_id)
        for _ in range(MAX_FLOOD_WAITS):
            await self._wait_turn(key)
            try:
                return await make()
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                log.warning("agents' group %s: flood wait %.0fs", chat_id, seconds)
                self._limiter.block_chat(key, self._clock.now() + timedelta(seconds=seconds))
        raise RuntimeError(f"agents' group {chat_id}: still flood-limited, giving up this call")

    async def _wait_turn(self, key: str) -> None:
        while (ready := self._limiter.reserve(key, is_group=True)) is not None:
            await self._sleep(max((ready - self._clock.now()).total_seconds(), 0.001))

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> Message:
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        return await self.call(
            chat_id,
            lambda: self.bot.send_message(
                chat_id,
                text,
                parse_mode=_PARSE_MODE,
                message_thread_id=thread_id,
                reply_markup=keyboard,
                reply_parameters=reply,
                disable_web_page_preview=True,
            ),
        )

    async def create_topic(self, chat_id: int, name: str) -> ForumTopic:
        return await self.call(chat_id, lambda: self.bot.create_forum_topic(chat_id, name))

    async def rename_topic(self, chat_id: int, thread_id: int, name: str) -> None:
        await self._topic_change(
            chat_id, lambda: self.bot.edit_forum_topic(chat_id, thread_id, name=name)
        )

    async def close_topic(self, chat_id: int, thread_id: int) -> None:
        await self._topic_change(chat_id, lambda: self.bot.close_forum_topic(chat_id, thread_id))

    async def reopen_topic(self, chat_id: int, thread_id: int) -> None:
        await self._topic_change(chat_id, lambda: self.bot.reopen_forum_topic(chat_id, thread_id))

    async def _topic_change(self, chat_id: int, make: Callable[[], Awaitable[bool]]) -> None:
        try:
            await self.call(chat_id, make)
        except BadRequest as exc:
            # Already so (a replayed event, an admin's hand): the state we wanted is there.
            if "not_modified" not in str(exc).lower().replace(" ", "_"):
                raise

    async def edit_keyboard(
        self, chat_id: int, message_id: int, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        """Swap a message's buttons; an edit is not a new message, so no rate-limit turn."""
        try:
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=keyboard)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
