"""A running Nudge process: its parts, and starting and stopping them in order for its role
(`web` receives and stores, `worker` processes and sends, `all` does both). The parts are
built by `bot.app.build_nudge`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from aiogram import Bot
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.agent_desk.desk import AgentDesk
from bot.channels.telegram.polling_lease import LeasedPolling
from bot.channels.telegram.receiver import ALLOWED_UPDATES, TelegramReceiver
from bot.channels.webchat.hub import WebchatHub
from bot.cluster.webchat_fanout import FanoutHub
from bot.config import Settings
from bot.conversation.inbox import InboxProcessor
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.events.dispatcher import WebhookDispatcher
from bot.events.service import EventsService
from bot.events.webhooks import WebhookPublisher
from bot.funnel.library import FunnelLibrary
from bot.funnel.runner import FunnelRunner
from bot.handoff.service import HandoffService
from bot.heap import freeze_startup_objects, unfreeze
from bot.knowledge.answering import KnowledgeBase
from bot.knowledge.watch import KbWatcher
from bot.scheduling.leader import LeaderLease
from bot.scheduling.pump import Pump
from bot.scheduling.scheduler import build_scheduler
from bot.storage.checkpoints import CHECKPOINT_SECONDS
from bot.storage.uow import Storage

log = logging.getLogger(__name__)

Role = Literal["web", "worker", "all"]
# Offers that expire, SLA breaches and idle chats are minutes-scale: a few seconds is exact enough.
HANDOFF_TICK_SECONDS = 5.0
SCAN_TICK_SECONDS = 60.0  # stalled / quiet: `after` is minutes to months; a minute late is fine
FUNNEL_TICK_SECONDS = 1.0  # due steps and shop events; producers also wake the pumps at once
WEBHOOK_TICK_SECONDS = 1.0  # retries are seconds to minutes apart; new rows wake the pump


@dataclass(slots=True)
class Nudge:
    """A running (or ready to run) Nudge process and its parts."""

    settings: Settings
    clock: Clock
    storage: Storage
    outbox: Outbox
    inbox: InboxProcessor
    dispatcher: Dispatcher
    inbox_pump: Pump
    outbox_pump: Pump
    web_app: web.Application
    hub: WebchatHub
    handoff: HandoffService
    handoff_pump: Pump
    events: EventsService
    funnels: FunnelLibrary
    funnel_runner: FunnelRunner
    funnel_pump: Pump
    event_pump: Pump
    scan_pump: Pump
    webhook_publisher: WebhookPublisher
    webhook_pump: Pump
    leader: LeaderLease
    leader_pump: Pump
    webhook_dispatcher: WebhookDispatcher | None = None
    desk: AgentDesk | None = None
    knowledge: KnowledgeBase | None = None
    kb_watcher: KbWatcher | None = None
    telegram_bot: Bot | None = None
    telegram: TelegramReceiver | None = None
    telegram_polling: LeasedPolling | None = None
    bot_username: str | None = None
    scheduler: AsyncIOScheduler | None = None
    checkpoint_pump: Pump | None = None
    runner: web.AppRunner | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        if self.runner is None or not self.runner.addresses:
            raise RuntimeError("the web server is not running")
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def start(self, *, migrate: bool = True, role: Role = "all") -> None:
        """Start the parts of a role: `web` receives and stores, `worker` processes and sends."""
        web_role = role in ("web", "all")
        worker = role in ("worker", "all")
        if migrate:
            await self.storage.upgrade()
        if worker:
            self._warn_if_limits_are_per_process()
            await self.dispatcher.recover()  # only the rows of workers that died mid-send
            await self._sync_agents()
            await self._start_knowledge()
        if web_role:
            self.runner = web.AppRunner(self.web_app, access_log=None)
            await self.runner.setup()
            await web.TCPSite(self.runner, self.settings.web.host, self.settings.web.port).start()
            log.info("web chat and API at %s/", self.base_url)
            await self._start_telegram()
            self._listen_for_webchat_replies()
        if worker:
            self.inbox_pump.start()
            self.outbox_pump.start()
            self.handoff_pump.start()
            self.webhook_pump.start()
            self.funnels.refresh()
            self.event_pump.start()
            self.funnel_pump.start()
            self.scan_pump.start()
            await self._lead_when_elected()
            self.scheduler = build_scheduler(
                [
                    (self.inbox_pump, self.settings.delivery.tick_seconds * 5),
                    (self.outbox_pump, self.settings.delivery.tick_seconds),
                    (self.handoff_pump, HANDOFF_TICK_SECONDS),
                    (self.webhook_pump, WEBHOOK_TICK_SECONDS),
                    (self.event_pump, FUNNEL_TICK_SECONDS),
                    (self.funnel_pump, FUNNEL_TICK_SECONDS),
                    (self.scan_pump, SCAN_TICK_SECONDS),
                    *self._checkpoints_off_the_loop(),
                    (self.leader_pump, self.leader.renew_every.total_seconds()),
                ]
            )
            self.scheduler.start()
        # Everything built so far lives as long as the app: out of the GC's full passes.
        freeze_startup_objects()

    def _listen_for_webchat_replies(self) -> None:
        """Several processes: replies sent by any of them reach the tabs this one holds."""
        if isinstance(self.hub, FanoutHub):
            listen = self.hub.listen()
            self.tasks.append(asyncio.get_running_loop().create_task(listen, name="webchat-fanout"))

    async def _lead_when_elected(self) -> None:
        """The once-per-cluster jobs (funnel scans, hand-off timers, the agents' desk) run on
        the process holding the leader lease; every worker tries to take it (docs/deploy.md)."""
        if self.desk is not None:
            self.leader.on_gained.append(self.desk.start)
            self.leader.on_lost.append(self.desk.stop)
        await self.leader.renew()
        self.leader_pump.start()

    def _warn_if_limits_are_per_process(self) -> None:
        if self.storage.dialect == "postgresql" and self.settings.delivery.redis_url is None:
            log.warning(
                "delivery.redis_url is not set: the rate limits are counted in this process "
                "only; with several workers set it so they share one count (docs/deploy.md)"
            )

    def _checkpoints_off_the_loop(self) -> list[tuple[Pump, float]]:
        """SQLite: the WAL is checkpointed from a pump in a thread, not inside a commit that
        holds the event loop (bot/storage/checkpoints.py)."""
        checkpointer = self.storage.defer_wal_checkpoints()
        if checkpointer is None:
            return []

        async def checkpoint() -> bool:
            await checkpointer.checkpoint()
            return False

        self.checkpoint_pump = Pump("wal-checkpoints", checkpoint)
        self.checkpoint_pump.start()
        return [(self.checkpoint_pump, CHECKPOINT_SECONDS)]

    async def _sync_agents(self) -> None:
        async with self.storage.uow() as uow:
            agents = await self.handoff.sync_agents(uow)
            await uow.commit()
        if agents:
            log.info("agents: %s", ", ".join(agent.key for agent in agents))

    async def _start_knowledge(self) -> None:
        if self.kb_watcher is None or self.knowledge is None:
            return
        if not self.kb_watcher.root.is_dir():
            log.warning(
                "knowledge base folder %s does not exist: questions get the fallback reply",
                self.kb_watcher.root,
            )
        change = await self.kb_watcher.scan()  # the first scan loads every article
        for problem in change.problems:
            log.warning("knowledge base: %s", problem)
        log.info(
            "knowledge base: %d articles from %s (ranking: %s)",
            len(self.knowledge),
            self.kb_watcher.root,
            self.knowledge.ranking,
        )
        interval = self.settings.knowledge.reload_seconds
        if interval > 0:
            watch = self.kb_watcher.run(interval)
            self.tasks.append(asyncio.get_running_loop().create_task(watch, name="kb-watch"))

    async def _start_telegram(self) -> None:
        bot = self.telegram_bot
        if bot is None or self.telegram is None:
            log.info("Telegram is off: set NUDGE_TELEGRAM_TOKEN to serve it")
            return
        me = await bot.get_me()
        self.bot_username = me.username
        telegram = self.settings.telegram
        if telegram.mode == "webhook":
            secret = self.settings.secrets.telegram_webhook_secret
            assert secret is not None and self.settings.web.public_url  # checked by the config
            url = self.settings.web.public_url.rstrip("/") + telegram.webhook_path
            await bot.set_webhook(
                url, secret_token=secret.get_secret_value(), allowed_updates=ALLOWED_UPDATES
            )
            log.info("Telegram @%s: webhook at %s", me.username, url)
            return
        await bot.delete_webhook(drop_pending_updates=False)
        receiver, timeout = self.telegram, telegram.polling_timeout_seconds
        # One poller per token: the web process holding a lease polls (docs/deploy.md).
        self.telegram_polling = LeasedPolling(
            self.storage.uow,
            self.clock,
            self.leader.holder,
            lambda: receiver.poll_forever(timeout),
            ttl=timedelta(seconds=telegram.polling_lease_seconds),
        )
        log.info("Telegram @%s: long polling %s", me.username, telegram.api_server)
        await self.telegram_polling.start()

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.telegram_polling is not None:
            await self.telegram_polling.stop()  # gives the lease up: another web process polls
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        await self.inbox_pump.stop()
        # The sends in hand get their answers and outcomes: cut off, they would end "unknown".
        await self.outbox_pump.stop(grace=self.settings.telegram.request_timeout_seconds + 5)
        await self.handoff_pump.stop()
        await self.webhook_pump.stop()
        await self.event_pump.stop()
        await self.funnel_pump.stop()
        await self.scan_pump.stop()
        await self.leader_pump.stop()
        await self.leader.release()  # stops the desk; another worker takes over at once
        await self.dispatcher.close()
        if isinstance(self.hub, FanoutHub):
            await self.hub.aclose()
        if self.webhook_dispatcher is not None:
            await self.webhook_dispatcher.close()
        if self.desk is not None:
            await self.desk.stop()  # never started, or already stopped: a no-op
        if self.telegram_bot is not None:
            await self.telegram_bot.session.close()
        if self.checkpoint_pump is not None:
            await self.checkpoint_pump.stop()
        await self.storage.dispose()
        unfreeze()
