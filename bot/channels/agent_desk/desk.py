"""The agents' desk: its own getUpdates loop feeding PTB's handlers, and the projector loop.

Updates: getUpdates from the stored offset, each update through `Application.process_update`,
the offset stored with the update's effects (see `handlers.py`) and once more per batch for
updates nothing handled. An update whose handler raised is tried again a few times, then
skipped with an ERROR, so one poisonous update cannot stop the desk.

Events: the projector runs in a `Pump`, woken after every commit the desk makes, by `wake()`
(Nudge calls it after committing customer messages and console actions) and every
`wake_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import Conflict, TelegramError

from bot.channels.agent_desk import links
from bot.channels.agent_desk.client import DeskConfig, build_application, build_bot
from bot.channels.agent_desk.handlers import DeskHandlers
from bot.channels.agent_desk.poster import DeskPoster, Sleep
from bot.channels.agent_desk.projector import DeskProjector
from bot.channels.agent_desk.topics import TopicKeeper
from bot.delivery.ratelimit import RateLimiter, RateLimits
from bot.domain.clock import Clock
from bot.domain.ports import UnitOfWorkFactory
from bot.handoff.actions import AgentActions
from bot.scheduling.pump import Pump
from bot.surveys.follow_ups import FollowUps

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
COMMANDS = [
    BotCommand("take", "Take this chat"),
    BotCommand("note", "Internal note (the customer does not see it)"),
    BotCommand("canned", "Send a canned response; no name lists them"),
    BotCommand("transfer", "Transfer to an agent or team"),
    BotCommand("close", "Close the conversation"),
    BotCommand("bot", "Give the chat back to the bot"),
    BotCommand("edit", "Supervisors: /edit HELD_ID text sends a corrected reply"),
]


class AgentDesk:
    def __init__(
        self,
        config: DeskConfig,
        uow_factory: UnitOfWorkFactory,
        actions: AgentActions,
        clock: Clock,
        *,
        on_outbox: Callable[[], None] = lambda: None,
        bot: Bot | None = None,
        limits: RateLimits | None = None,
        sleep: Sleep = asyncio.sleep,
        retry_delay: float = 5.0,
        error_pause: float = 1.0,
        follow_ups: FollowUps | None = None,
    ) -> None:
        self.config = config
        self._uow = uow_factory
        self._on_outbox = on_outbox
        self._sleep = sleep
        self._retry_delay = retry_delay
        self.bot = bot or build_bot(config)
        self.application = build_application(self.bot)
        limiter = RateLimiter(limits or RateLimits.telegram(), clock)
        self.poster = DeskPoster(self.bot, limiter, clock, sleep)
        self.topics = TopicKeeper(
            uow_factory, self.poster, config.group_chat_id, config.transcript_messages
        )
        self.projector = DeskProjector(
            uow_factory, self.poster, self.topics, max_attempts=config.max_attempts
        )
        self.handlers = DeskHandlers(
            config.group_chat_id, uow_factory, actions, self.poster, self._committed,
            config.teams, follow_ups,
        )  # fmt: skip
        self.handlers.register(self.application)
        # After a failing event the pump pauses `error_pause`, then the event is tried again.
        self.pump = Pump("agent-desk", self.projector.project, error_pause=error_pause)
        self._tasks: list[asyncio.Task[Any]] = []
        self._initialized = False

    def wake(self) -> None:
        """Something was committed that may have added conversation events."""
        self.pump.wake()

    def _committed(self) -> None:
        self.wake()
        self._on_outbox()

    async def start(self, *, poll: bool = True) -> None:
        """Check the group, then run the loops (`poll=False`: tests feed updates themselves)."""
        await self.application.initialize()  # getMe: commands addressed /take@ThisBot match
        self._initialized = True
        chat = await self.bot.get_chat(self.config.group_chat_id)
        self.topics.is_forum = bool(chat.is_forum)
        mode = "topics" if chat.is_forum else "no topics: agents reply to the bot's posts"
        log.info("agent desk @%s in %r (%s)", self.bot.username, chat.title, mode)
        await self._set_commands()
        await self.projector.start_cursor()
        self.pump.start()
        loop = asyncio.get_running_loop()
        if poll:
            self._tasks.append(loop.create_task(self._poll_forever(), name="agent-desk-poll"))
        self._tasks.append(loop.create_task(self._tick_forever(), name="agent-desk-tick"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.pump.stop()
        if self._initialized:
            self._initialized = False
            await self.application.shutdown()  # also closes the bot's HTTP clients

    async def _set_commands(self) -> None:
        try:
            scope = BotCommandScopeChat(self.config.group_chat_id)
            await self.bot.set_my_commands(COMMANDS, scope=scope)
        except TelegramError as exc:  # a nicety: the desk works without the menu
            log.warning("agent desk: could not set the command menu: %s", exc)

    async def handle_updates(self, poll_seconds: int = 0) -> int:
        """Fetch one batch of updates and handle them in order; how many there were."""
        async with self._uow() as uow:
            offset = await links.read_int(uow, links.OFFSET_KEY)
        updates = await self.bot.get_updates(
            offset=offset, timeout=poll_seconds, allowed_updates=ALLOWED_UPDATES
        )
        for update in updates:
            await self._handle(update)
        if updates:
            async with self._uow() as uow:
                await uow.settings.put(links.OFFSET_KEY, str(updates[-1].update_id + 1))
                await uow.commit()
        return len(updates)

    async def _handle(self, update: Update) -> None:
        attempts = self.config.max_attempts
        for attempt in range(1, attempts + 1):
            await self.application.process_update(update)
            error = self.handlers.failures.pop(update.update_id, None)
            if error is None:
                return
            if attempt == attempts:
                log.error("agent desk: skipping update %s after %d failures",
                          update.update_id, attempt, exc_info=error)  # fmt: skip
                return
            log.warning("agent desk: update %s failed (%s); trying again",
                        update.update_id, error)  # fmt: skip
            await self._sleep(min(attempt, 5))

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.handle_updates(self.config.poll_timeout)
            except Conflict:
                log.error("agent desk: another getUpdates poller or a webhook uses this token")
                await asyncio.sleep(self._retry_delay)
            except Exception as exc:
                log.warning("agent desk: getUpdates failed (%s); retrying", exc, exc_info=True)
                await asyncio.sleep(self._retry_delay)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.wake_seconds)
            self.wake()
