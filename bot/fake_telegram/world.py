"""The fake Telegram's whole state: bots, users, groups, faults and the request log."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from bot.fake_telegram.errors import CHAT_NOT_FOUND, bad_request
from bot.fake_telegram.faults import FaultInjector
from bot.fake_telegram.models import ApiCall, Chat, FakeBot, FakeGroup, FakeUser
from bot.fake_telegram.params import Params
from bot.fake_telegram.state import BotState, Signal

TokenLike = str | FakeBot
UserLike = FakeUser | int
GroupLike = FakeGroup | int


def bot_id_from_token(token: str) -> int:
    """The bot's user id: the number before ``:`` in its token (as Telegram), else a hash."""
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else abs(hash(token)) % 10**10 + 1


class WebhookRunner(Protocol):
    """Starts and stops pushing a bot's updates to its webhook."""

    def start(self, bot: BotState) -> None: ...

    async def stop(self, bot: BotState) -> None: ...


class World:
    """In-memory Telegram: shared by the HTTP handlers and the Python control API."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self.wall_clock = wall_clock
        self.bots: dict[str, BotState] = {}
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, FakeGroup] = {}
        self.faults = FaultInjector()
        self.calls: list[ApiCall] = []
        self.stats: Counter[tuple[str, int]] = Counter()
        self.observed = Signal()
        self.closing = False
        self.webhooks: WebhookRunner | None = None

    def now(self) -> int:
        """Unix time for ``date`` fields."""
        return int(self.wall_clock())

    def add_bot(self, token: str, username: str | None, first_name: str | None) -> FakeBot:
        if token in self.bots:
            return self.bots[token].info
        bot_id = bot_id_from_token(token)
        user = FakeUser(
            user_id=bot_id,
            first_name=first_name or "Fake Bot",
            username=username or f"fake{bot_id}_bot",
            is_bot=True,
        )
        info = FakeBot(token=token, user=user)
        self.bots[token] = BotState(info=info)
        return info

    def add_user(self, user: FakeUser) -> FakeUser:
        if user.user_id <= 0:
            raise ValueError("user ids are positive")
        self.users[user.user_id] = user
        return user

    def add_group(self, group: FakeGroup) -> FakeGroup:
        if group.chat_id >= 0:
            raise ValueError("group chat ids are negative")
        self.groups[group.chat_id] = group
        return group

    def bot(self, token: TokenLike) -> BotState:
        key = token.token if isinstance(token, FakeBot) else token
        state = self.bots.get(key)
        if state is None:
            raise KeyError(f"unknown bot token {key!r}: call add_bot() first")
        return state

    def user(self, user: UserLike) -> FakeUser:
        user_id = user.user_id if isinstance(user, FakeUser) else user
        found = self.users.get(user_id)
        if found is None:
            raise KeyError(f"unknown user {user_id}: call add_user() first")
        return found

    def group(self, group: GroupLike) -> FakeGroup:
        chat_id = group.chat_id if isinstance(group, FakeGroup) else group
        found = self.groups.get(chat_id)
        if found is None:
            raise KeyError(f"unknown group {chat_id}: call add_group() first")
        return found

    def resolve_chat(self, bot: BotState, chat_id: object) -> Chat:
        """The chat a Bot API call names, or 400 "chat not found"."""
        if isinstance(chat_id, int):
            if chat_id > 0 and chat_id in bot.known_chats and chat_id in self.users:
                return self.users[chat_id]
            if chat_id < 0 and chat_id in self.groups:
                return self.groups[chat_id]
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            for group in self.groups.values():
                if group.username and group.username.lower() == chat_id[1:].lower():
                    return group
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        raise bad_request(CHAT_NOT_FOUND)

    def chat_by_id(self, chat_id: int) -> Chat:
        """A registered user (private chat) or group by id."""
        return self.users[chat_id] if chat_id > 0 else self.groups[chat_id]

    def allocate_message_id(self, bot: BotState, chat: Chat) -> int:
        if isinstance(chat, FakeGroup):
            return chat.allocate_message_id()
        return bot.allocate_private_message_id(chat.user_id)

    async def record_call(self, call: ApiCall) -> None:
        self.calls.append(call)
        self.stats[(call.method, call.status)] += 1
        await self.observed.notify()

    def stats_json(self, token: str | None = None) -> dict[str, dict[str, int]]:
        """Request counts per method and HTTP status (all tokens, or one)."""
        calls: Iterable[tuple[tuple[str, int], int]]
        if token is None:
            calls = self.stats.items()
        else:
            counter = Counter((c.method, c.status) for c in self.calls if c.token == token)
            calls = counter.items()
        result: dict[str, dict[str, int]] = {}
        for (method, status), count in sorted(calls):
            result.setdefault(method, {})[str(status)] = count
        return result

    def reset(self) -> None:
        """Forget calls, messages, updates and faults; keep bots, users and groups."""
        self.calls.clear()
        self.stats.clear()
        self.faults.clear()
        for bot in self.bots.values():
            bot.reset()


Handler = Callable[[World, BotState, Params], Awaitable[Any]]
