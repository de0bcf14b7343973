"""FakeTelegramServer: the Bot API on a real HTTP port plus a Python control API for tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

from aiohttp import web

from bot.fake_telegram import simulate
from bot.fake_telegram.api_http import WORLD_KEY, add_routes
from bot.fake_telegram.control_http import add_control_routes
from bot.fake_telegram.faults import Fault, FaultRule, RandomFaults
from bot.fake_telegram.models import FakeBot, FakeGroup, FakeUser, JsonDict, SentMessage
from bot.fake_telegram.observe import ObserverMixin
from bot.fake_telegram.webhook import WebhookDeliverer
from bot.fake_telegram.world import GroupLike, TokenLike, UserLike, World


class FakeTelegramServer(ObserverMixin):
    """A fake Telegram Bot API server. Use ``async with FakeTelegramServer() as server``.

    ``port=0`` picks a free port; ``base_url`` is known after :meth:`start`. Webhook
    deliveries that fail are retried after ``webhook_retry_base`` seconds, doubling up to
    ``webhook_retry_max``. ``control_api`` serves the ``/_fake/`` HTTP control routes.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_retry_base: float = 0.05,
        webhook_retry_max: float = 1.0,
        webhook_timeout: float = 10.0,
        wall_clock: Callable[[], float] = time.time,
        control_api: bool = True,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._control_api = control_api
        self.world = World(wall_clock)
        self.webhooks = WebhookDeliverer(
            self.world,
            retry_base=webhook_retry_base,
            retry_max=webhook_retry_max,
            timeout=webhook_timeout,
        )
        self.world.webhooks = self.webhooks
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application (Bot API routes, plus ``/_fake/`` when enabled)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app[WORLD_KEY] = self.world
        add_routes(app)
        if self._control_api:
            add_control_routes(app, self)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            return
        self.world.closing = False
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def listen_also(self, port: int = 0) -> str:
        """Serve the same bots on one more port; returns its base URL. Calls record the port
        they came in on (``ApiCall.port``): clients given different addresses (two processes
        of one bot) can be told apart."""
        runner = self._runner
        if runner is None:
            raise RuntimeError("FakeTelegramServer is not started")
        before = list(runner.addresses)
        await web.TCPSite(runner, self.host, port).start()
        [added] = [address for address in runner.addresses if address not in before]
        return self._url(int(added[1]))

    async def stop(self) -> None:
        """Stop serving: pending long polls return empty, webhook pushes stop."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self.world.closing = True
        for bot in self.world.bots.values():
            await bot.updates.signal.notify()
        await self.webhooks.close()
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegramServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (clients add ``/bot{token}/{method}``)."""
        return self._url(self.port)

    def _url(self, port: int) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    # -- registration ----------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str | None = None, first_name: str | None = None
    ) -> FakeBot:
        """Register a token; the bot's id is the number before ``:``."""
        return self.world.add_bot(token, username, first_name)

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        return self.world.add_user(
            FakeUser(user_id, first_name, last_name, username, language_code)
        )

    def add_group(
        self,
        chat_id: int,
        title: str,
        is_forum: bool = False,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        username: str | None = None,
    ) -> FakeGroup:
        """Register a group every bot is an admin of (``is_forum`` for topics)."""
        group = FakeGroup(chat_id, title, is_forum, set(members), set(admins), username)
        return self.world.add_group(group)

    def register_chat_for(self, token: TokenLike, user: UserLike) -> None:
        """Let the bot write to ``user`` as if they had written first (no update is queued)."""
        self.world.bot(token).known_chats.add(self.world.user(user).user_id)

    # -- what users do -----------------------------------------------------------------------

    async def send_text(
        self,
        token: TokenLike,
        user: UserLike,
        text: str,
        chat: GroupLike | None = None,
        thread_id: int | None = None,
        reply_to: SentMessage | None = None,
    ) -> JsonDict:
        """The user writes ``text`` to the bot (privately, or in group ``chat``); the Update.

        ``reply_to``: a message the bot sent in that chat, which this one replies to.
        """
        group = self.world.group(chat) if chat is not None else None
        return await simulate.user_sends_text(
            self.world,
            self.world.bot(token),
            self.world.user(user),
            text,
            group,
            thread_id,
            reply_to,
        )

    async def press_button(
        self, token: TokenLike, user: UserLike, message: SentMessage | JsonDict, data: str
    ) -> JsonDict:
        """The user presses the inline button with ``callback_data == data``; the Update."""
        return await simulate.user_presses_button(
            self.world, self.world.bot(token), self.world.user(user), message, data
        )

    async def set_blocked(self, token: TokenLike, user: UserLike, blocked: bool = True) -> JsonDict:
        """The user blocks (or unblocks) the bot: a ``my_chat_member`` Update; sends get 403."""
        return await simulate.user_sets_blocked(
            self.world, self.world.bot(token), self.world.user(user), blocked
        )

    async def push_update(self, token: TokenLike, raw: JsonDict) -> JsonDict:
        """Queue any update body as is (``update_id`` assigned if missing)."""
        return await simulate.enqueue(self.world.bot(token), dict(raw))

    async def deliver_webhook(self, token: TokenLike, update: JsonDict) -> int:
        """POST ``update`` to the webhook now, outside the queue; the HTTP status (0 = error)."""
        return await self.webhooks.deliver_once(self.world.bot(token), update)

    # -- faults ----------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str | None = "sendMessage",
        fault: Fault | None = None,
        times: int | None = 1,
        chat_id: int | str | None = None,
        token: TokenLike | None = None,
    ) -> None:
        """The next ``times`` matching requests (None = all) get ``fault``.

        ``method`` None matches every method; ``chat_id``/``token`` narrow it further.
        """
        if fault is None:
            raise TypeError("inject_fault() needs a fault, e.g. Fault.retry_after(1)")
        key = token.token if isinstance(token, FakeBot) else token
        name = method.lower() if method else None
        self.world.faults.add(FaultRule(fault, name, times, chat_id, key))

    def clear_faults(self) -> None:
        """Remove scripted and random faults."""
        self.world.faults.clear()

    def set_random_faults(
        self,
        retry_after: float = 0.0,
        server_error: float = 0.0,
        drop: float = 0.0,
        seed: int | None = None,
        methods: Sequence[str] = ("sendMessage",),
        retry_after_seconds: int = 1,
    ) -> None:
        """Each request of ``methods`` fails with these probabilities (all 0 = off)."""
        if not any((retry_after, server_error, drop)):
            self.world.faults.set_random(None, seed)
            return
        config = RandomFaults(
            retry_after=retry_after,
            server_error=server_error,
            drop=drop,
            methods=frozenset(m.lower() for m in methods),
            retry_after_seconds=retry_after_seconds,
        )
        self.world.faults.set_random(config, seed)

    def reset(self) -> None:
        """Forget calls, messages, updates, deliveries and faults; keep bots, users, groups."""
        self.world.reset()
