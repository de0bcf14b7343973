"""Per-bot state: the update queue, the sent-message log, webhook settings; and a wait signal."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.fake_telegram.models import (
    CallbackAnswer,
    FakeBot,
    FakeUser,
    JsonDict,
    SentMessage,
    WebhookDelivery,
)

DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Signal:
    """An :class:`asyncio.Condition` plus a waiter count, so notifying is free when nobody waits.

    State is changed first, then :meth:`notify` is awaited; waiters re-check their predicate
    under the condition's lock, so no wake-up is lost.
    """

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self._waiters = 0

    async def notify(self) -> None:
        if self._waiters:
            async with self._condition:
                self._condition.notify_all()

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float | None,  # noqa: ASYNC109 - callers pass their deadline through
    ) -> bool:
        """Wait until ``predicate()`` holds; False if ``timeout`` seconds passed first."""
        self._waiters += 1
        try:
            async with asyncio.timeout(timeout), self._condition:
                await self._condition.wait_for(predicate)
            return True
        except TimeoutError:
            return predicate()
        finally:
            self._waiters -= 1


def update_type(update: JsonDict) -> str | None:
    """The kind of an update: the first key besides ``update_id``."""
    return next((key for key in update if key != "update_id"), None)


class UpdateQueue:
    """Updates not yet confirmed, oldest first, with increasing ``update_id``."""

    def __init__(self) -> None:
        self.items: deque[JsonDict] = deque()
        self.next_id = 1
        self.confirmed = 0
        self.signal = Signal()

    def put(self, update: JsonDict) -> JsonDict:
        update_id = update.get("update_id")
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            self.next_id = max(self.next_id, update_id + 1)
        else:
            update = {"update_id": self.next_id, **update}
            self.next_id += 1
        self.items.append(update)
        return update

    def confirm(self, offset: int | None) -> int:
        """Forget updates below ``offset`` (a negative one keeps the last -offset); how many."""
        if offset is None:
            return 0
        items = self.items
        before = len(items)
        if offset < 0:
            while len(items) > -offset:
                items.popleft()
        else:
            while items and _update_id(items[0]) < offset:
                items.popleft()
        self.confirmed += before - len(items)
        return before - len(items)

    def confirm_first(self, update: JsonDict) -> None:
        """The first queued update was delivered (webhook): forget it."""
        if self.items and self.items[0] is update:
            self.items.popleft()
            self.confirmed += 1

    def pending(self, limit: int, allowed: frozenset[str] | None) -> list[JsonDict]:
        """Up to ``limit`` queued updates of the allowed kinds."""
        result: list[JsonDict] = []
        for update in self.items:
            if is_allowed(update, allowed):
                result.append(update)
                if len(result) >= limit:
                    break
        return result

    def clear(self) -> None:
        self.items.clear()


def _update_id(update: JsonDict) -> int:
    value = update.get("update_id")
    return value if isinstance(value, int) else 0


def is_allowed(update: JsonDict, allowed: frozenset[str] | None) -> bool:
    kind = update_type(update)
    if allowed is None:
        return kind not in DEFAULT_EXCLUDED_UPDATES
    return kind in allowed


def allowed_set(values: Iterable[str] | None) -> frozenset[str] | None:
    """``allowed_updates`` as a set; None (or empty) means Telegram's default."""
    result = frozenset(values or ())
    return result or None


class MessageLog:
    """Messages a bot sent, indexed by chat and by (chat_id, message_id)."""

    def __init__(self) -> None:
        self.all: list[SentMessage] = []
        self.by_chat: dict[int, list[SentMessage]] = {}
        self.by_key: dict[tuple[int, int], SentMessage] = {}

    def add(self, message: SentMessage) -> None:
        self.all.append(message)
        self.by_chat.setdefault(message.chat_id, []).append(message)
        self.by_key[(message.chat_id, message.message_id)] = message

    def get(self, chat_id: int, message_id: int) -> SentMessage | None:
        return self.by_key.get((chat_id, message_id))

    def for_chat(self, chat_id: int | None) -> list[SentMessage]:
        if chat_id is None:
            return self.all
        return self.by_chat.get(chat_id, [])

    def clear(self) -> None:
        self.all.clear()
        self.by_chat.clear()
        self.by_key.clear()


@dataclass(slots=True)
class WebhookConfig:
    """What setWebhook set."""

    url: str
    secret_token: str | None = None
    allowed_updates: frozenset[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(slots=True)
class BotState:
    """Everything the server keeps for one token."""

    info: FakeBot
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    messages: MessageLog = field(default_factory=MessageLog)
    allowed_updates: frozenset[str] | None = None
    poll_generation: int = 0
    polls_waiting: int = 0
    webhook: WebhookConfig | None = None
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    known_chats: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    private_message_ids: dict[int, int] = field(default_factory=dict)
    incoming: dict[tuple[int, int], JsonDict] = field(default_factory=dict)
    callbacks: dict[str, CallbackAnswer] = field(default_factory=dict)
    commands: dict[str, list[JsonDict]] = field(default_factory=dict)
    next_callback_id: int = 1

    @property
    def token(self) -> str:
        return self.info.token

    @property
    def user(self) -> FakeUser:
        return self.info.user

    def allocate_private_message_id(self, user_id: int) -> int:
        """Message ids of a private chat count up per (bot, user), shared by both sides."""
        message_id = self.private_message_ids.get(user_id, 0) + 1
        self.private_message_ids[user_id] = message_id
        return message_id

    def reset(self) -> None:
        """Forget messages, updates, deliveries and callback queries (keeps chats and ids)."""
        self.messages.clear()
        self.updates.clear()
        self.deliveries.clear()
        self.callbacks.clear()
        self.incoming.clear()


def max_in_window(times: list[float], seconds: float) -> int:
    """The most timestamps (sorted ascending) inside any window of ``seconds``."""
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best
