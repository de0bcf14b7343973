"""Read-only views of what happened, and waiting for it (on a condition, never by polling)."""

from __future__ import annotations

from bot.fake_telegram.models import ApiCall, CallbackAnswer, JsonDict, SentMessage, WebhookDelivery
from bot.fake_telegram.state import max_in_window
from bot.fake_telegram.world import TokenLike, World


class ObserverMixin:
    """Queries of :class:`FakeTelegramServer`; needs ``self.world``."""

    world: World

    def sent_messages(self, token: TokenLike, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent (all chats, or one), oldest first; deleted ones included."""
        return list(self.world.bot(token).messages.for_chat(chat_id))

    async def wait_for_messages(
        self,
        token: TokenLike,
        count: int,
        chat_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the documented test API
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages (to ``chat_id``); return all.

        Raises TimeoutError naming what was expected, what arrived and recent failed calls.
        """
        log = self.world.bot(token).messages
        if await self.world.observed.wait_for(lambda: len(log.for_chat(chat_id)) >= count, timeout):
            return list(log.for_chat(chat_id))
        raise TimeoutError(self._messages_timeout(token, count, chat_id, timeout))

    def _messages_timeout(
        self, token: TokenLike, count: int, chat_id: int | None, timeout: float
    ) -> str:
        bot = self.world.bot(token)
        got = bot.messages.for_chat(chat_id)
        where = f" to chat {chat_id}" if chat_id is not None else ""
        texts = [m.text[:60] for m in got[-5:]]
        failed = [
            f"{c.method} {c.status} {c.description or ''}".strip()
            for c in self.world.calls[-200:]
            if c.token == bot.token and c.status != 200
        ][-5:]
        return (
            f"expected {count} message(s) from @{bot.user.username}{where} within {timeout}s, "
            f"got {len(got)}; last texts: {texts}; last failed calls: {failed or 'none'}"
        )

    def calls(self, method: str | None = None, token: TokenLike | None = None) -> list[ApiCall]:
        """Every Bot API request so far (optionally one method, case-insensitive, or token)."""
        key = token.token if token is not None and not isinstance(token, str) else token
        wanted = method.lower() if method else None
        return [
            call
            for call in self.world.calls
            if (wanted is None or call.method.lower() == wanted)
            and (key is None or call.token == key)
        ]

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the documented test API
        token: TokenLike | None = None,
    ) -> list[ApiCall]:
        """Wait until at least ``count`` requests of ``method`` were answered; return them."""
        if await self.world.observed.wait_for(
            lambda: self._count_calls(method, token) >= count, timeout
        ):
            return self.calls(method, token)
        got = self._count_calls(method, token)
        raise TimeoutError(f"expected {count} {method} call(s) within {timeout}s, got {got}")

    def _count_calls(self, method: str, token: TokenLike | None) -> int:
        if token is not None:
            return len(self.calls(method, token))
        wanted = method.lower()
        return sum(n for (name, _), n in self.world.stats.items() if name.lower() == wanted)

    def max_sends_in_window(
        self, token: TokenLike, seconds: float, chat_id: int | None = None
    ) -> int:
        """Most messages accepted inside any ``seconds``-long window (per chat or overall)."""
        messages = self.world.bot(token).messages.for_chat(chat_id)
        return max_in_window([m.at for m in messages], seconds)

    def webhook_deliveries(self, token: TokenLike) -> list[WebhookDelivery]:
        """Every POST to the bot's webhook, oldest first."""
        return list(self.world.bot(token).deliveries)

    def webhook_statuses(self, token: TokenLike) -> list[int]:
        """HTTP status of every webhook POST (0 = connection error), oldest first."""
        return [d.status for d in self.world.bot(token).deliveries]

    async def wait_for_webhook_deliveries(
        self,
        token: TokenLike,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the documented test API
    ) -> list[WebhookDelivery]:
        """Wait until the webhook was POSTed to at least ``count`` times; return all."""
        bot = self.world.bot(token)
        if await self.world.observed.wait_for(lambda: len(bot.deliveries) >= count, timeout):
            return list(bot.deliveries)
        raise TimeoutError(
            f"expected {count} webhook deliveries within {timeout}s, got "
            f"{len(bot.deliveries)} with statuses {self.webhook_statuses(token)}"
        )

    async def wait_for_long_poll(
        self,
        token: TokenLike,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the documented test API
    ) -> None:
        """Wait until a getUpdates request of the bot is waiting for updates (long polling)."""
        bot = self.world.bot(token)
        if not await self.world.observed.wait_for(lambda: bot.polls_waiting > 0, timeout):
            raise TimeoutError(f"no getUpdates long poll of @{bot.user.username} in {timeout}s")

    async def wait_for_updates_confirmed(
        self,
        token: TokenLike,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the documented test API
    ) -> None:
        """Wait until ``count`` updates in all were confirmed (getUpdates offset or webhook 2xx)."""
        queue = self.world.bot(token).updates
        if not await self.world.observed.wait_for(lambda: queue.confirmed >= count, timeout):
            raise TimeoutError(
                f"expected {count} confirmed update(s) within {timeout}s, got {queue.confirmed} "
                f"({len(queue.items)} still pending)"
            )

    def pending_updates(self, token: TokenLike) -> list[JsonDict]:
        """Updates not yet confirmed by getUpdates nor delivered to the webhook."""
        return list(self.world.bot(token).updates.items)

    def callback_answer(self, token: TokenLike, query_id: str) -> CallbackAnswer | None:
        """A callback query from :meth:`press_button` and the bot's answer to it."""
        return self.world.bot(token).callbacks.get(query_id)

    def stats(self, token: TokenLike | None = None) -> dict[str, dict[str, int]]:
        """Request counts: ``{method: {status: count}}``."""
        key = token.token if token is not None and not isinstance(token, str) else token
        return self.world.stats_json(key)
