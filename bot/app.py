"""The composition root: builds storage, services and adapters from settings, starts and stops
them in order. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from aiogram import Bot
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.analytics import ReportService
from bot.channels.agent_desk.client import DeskConfig
from bot.channels.agent_desk.desk import AgentDesk
from bot.channels.telegram.client import build_bot
from bot.channels.telegram.gateway import TelegramGateway
from bot.channels.telegram.polling_lease import LeasedPolling
from bot.channels.telegram.receiver import ALLOWED_UPDATES, TelegramReceiver
from bot.channels.telegram.translate import to_event as telegram_event
from bot.channels.webchat.backend import WebchatBackend
from bot.channels.webchat.gateway import WebchatGateway
from bot.channels.webchat.hub import WebchatHub
from bot.channels.webchat.inbound import to_event as webchat_event
from bot.cluster.identity import worker_id
from bot.cluster.limiters import build_hub, build_limiter
from bot.cluster.webchat_fanout import FanoutHub
from bot.config import Settings
from bot.conversation.escalation import Escalation
from bot.conversation.inbox import InboxProcessor, Translator
from bot.conversation.knowledge_replies import KnowledgeResponder
from bot.conversation.service import ConversationService
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.limits import SendLimiter
from bot.delivery.outbox import Outbox
from bot.delivery.ratelimit import RateLimits
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import Clock, SystemClock
from bot.domain.model import Channel
from bot.domain.ports import ChannelGateway
from bot.events.dispatcher import WebhookDispatcher
from bot.events.service import EventsService
from bot.events.webhooks import WebhookPublisher
from bot.funnel.db_ports import FunnelRules
from bot.funnel.event_feed import EventFeed
from bot.funnel.hooks import FunnelHooks
from bot.funnel.library import FunnelLibrary
from bot.funnel.model import FrequencyCap
from bot.funnel.runner import FunnelRunner
from bot.funnel.scans import FunnelScans
from bot.handoff.policy import HandoffPolicy
from bot.handoff.service import HandoffService, TickReport
from bot.heap import freeze_startup_objects, unfreeze
from bot.knowledge.answering import KnowledgeBase
from bot.knowledge.setup import configured_knowledge_base, configured_thresholds
from bot.knowledge.watch import KbChange, KbWatcher
from bot.rendering import Renderer
from bot.scheduling.leader import LeaderLease, on_leader_only
from bot.scheduling.pump import Pump
from bot.scheduling.scheduler import build_scheduler
from bot.storage.checkpoints import CHECKPOINT_SECONDS
from bot.storage.uow import Storage
from bot.surveys.catalog import SurveyLibrary
from bot.surveys.service import SurveyRules, SurveyService
from bot.web.app import build_web_app
from bot.web.console import setup_console
from bot.web.console.context import ReportsFor
from bot.web.events_routes import add_events_routes
from bot.web.webchat_routes import add_webchat_routes

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


def build_nudge(settings: Settings, clock: Clock | None = None) -> Nudge:
    clock = clock or SystemClock()
    storage = Storage(settings.storage.url, clock=clock)
    hub = build_hub(settings)
    gateways: dict[Channel, ChannelGateway] = {Channel.WEBCHAT: WebchatGateway(hub)}
    translators: dict[Channel, Translator] = {Channel.WEBCHAT: webchat_event}
    limiters: dict[Channel, SendLimiter] = {}
    holder: dict[str, Nudge] = {}
    worker = worker_id()
    leader = LeaderLease(storage.uow, clock, worker)

    def wake_outbox() -> None:
        holder["app"].outbox_pump.wake()

    def wake_inbox() -> None:
        holder["app"].inbox_pump.wake()

    def wake_agents() -> None:
        """New hand-off events: the desk mirrors them now rather than at its next check."""
        desk = holder["app"].desk
        if desk is not None:
            desk.wake()

    def wake_after_action() -> None:
        wake_outbox()
        wake_agents()

    bot, receiver = _telegram_parts(settings, clock, storage, wake_inbox)
    if bot is not None:
        gateways[Channel.TELEGRAM] = TelegramGateway(
            bot, paid_broadcast=settings.delivery.paid_broadcast
        )
        translators[Channel.TELEGRAM] = telegram_event
        limiters[Channel.TELEGRAM] = build_limiter(_rate_limits(settings), clock, settings, worker)
    renderer = Renderer(Path(settings.bot.templates_dir), settings.bot.default_language)
    outbox = Outbox({channel: g.max_text_length for channel, g in gateways.items()})
    knowledge, watcher, responder = _knowledge_parts(settings, renderer)
    policy = HandoffPolicy.from_settings(settings.handoff)
    handoff = HandoffService(policy, renderer, outbox, clock)
    escalation = Escalation(handoff, policy.triggers, renderer) if policy.enabled else None
    library, runner = _funnel_parts(settings, storage, renderer, outbox, clock, handoff, policy)
    runner.on_outbox = wake_outbox
    funnel_hooks = FunnelHooks(runner, library.current)
    survey_library = SurveyLibrary(Path(settings.surveys.folder), renderer)
    survey_library.refresh()
    surveys = SurveyService(
        SurveyRules.from_settings(settings.surveys, settings.bot.default_language),
        survey_library.current,
        renderer,
        outbox,
        clock,
        handoff=handoff if policy.enabled else None,
    )
    handoff.surveys = surveys
    runner.surveys = surveys

    def wake_funnels() -> None:
        holder["app"].funnel_pump.wake()

    feed = EventFeed(storage.uow, funnel_hooks, clock, on_enrolled=wake_funnels)
    scans = FunnelScans(storage.uow, runner, library.current, clock, on_enrolled=wake_funnels)

    @on_leader_only(leader)
    async def scan_work() -> bool:
        await scans.tick()
        return False  # one bounded batch per funnel per wake; the next comes with the timer

    async def funnel_work() -> bool:
        library.refresh()
        return (await runner.tick()).claimed >= runner.batch_size

    async def event_work() -> bool:
        return await feed.tick() >= feed.batch_size

    service = ConversationService(
        renderer,
        outbox,
        clock,
        knowledge=responder,
        escalation=escalation,
        funnels=funnel_hooks,
        surveys=surveys,
        default_language=settings.bot.default_language,
    )
    inbox = InboxProcessor(
        storage.uow,
        service,
        translators,
        clock,
        batch_size=settings.inbound.batch_size,
        on_outbox=wake_outbox,
    )
    delivery = settings.delivery
    dispatcher = Dispatcher(
        storage.uow,
        gateways,
        limiters,
        clock,
        RetryPolicy(
            delivery.max_attempts, delivery.backoff_initial_seconds, delivery.backoff_max_seconds
        ),
        batch_size=delivery.batch_size,
        concurrency=delivery.concurrency,
        worker_id=worker,
        lease=timedelta(seconds=delivery.lease_seconds),
    )

    async def inbox_work() -> bool:
        taken = await inbox.tick()
        if taken:
            wake_agents()  # a customer message in a handed-off chat has no outbox row
        return taken >= settings.inbound.batch_size

    async def outbox_work() -> bool:
        return (await dispatcher.tick()).full_batch

    @on_leader_only(leader)
    async def handoff_work() -> bool:
        survey_library.refresh()
        async with storage.uow() as uow:
            report = await handoff.tick(uow)
            await surveys.expire(uow, clock.now())
            await uow.commit()
        if report != TickReport():
            wake_after_action()
        return False

    async def health() -> dict[str, Any]:
        try:
            await storage.check_connection()
        except Exception as exc:
            return {"ok": False, "storage": f"unreachable: {type(exc).__name__}"}
        articles = len(knowledge) if knowledge is not None else None
        return {"ok": True, "storage": "ok", "telegram": bot is not None, "articles": articles}

    web_app = build_web_app(health, telegram=receiver, webhook_path=settings.telegram.webhook_path)
    if policy.enabled:
        secret = settings.secrets.secret_key
        setup_console(
            web_app,
            uow_factory=storage.uow_factory,
            actions=handoff,
            clock=clock,
            secret_key=secret.get_secret_value() if secret else None,
            default_team=policy.default_team,
            teams=policy.team_names,
            secure_cookies=(settings.web.public_url or "").startswith("https://"),
            on_outbox=wake_after_action,
            follow_ups=surveys,
            reports=_reports_for(settings, clock, library),
        )
    events_secret = settings.secrets.events_secret
    signing_key = events_secret.get_secret_value() if events_secret else None
    events = EventsService(
        storage.uow,
        clock,
        telegram_username=lambda: holder["app"].bot_username,
        on_event=lambda: holder["app"].event_pump.wake(),
    )
    add_events_routes(web_app, events, secret=signing_key, clock=clock)
    hooks = settings.webhooks
    publisher = WebhookPublisher(hooks.endpoints)
    if hooks.endpoints:
        runner.publish = publisher.publish
        handoff.publish = publisher.publish
        surveys.publish = publisher.publish
    webhook_dispatcher = None
    if signing_key and hooks.endpoints:
        retry = RetryPolicy(
            hooks.max_attempts, hooks.backoff_initial_seconds, hooks.backoff_max_seconds
        )
        webhook_dispatcher = WebhookDispatcher(
            storage.uow, clock, signing_key, retry, timeout_seconds=hooks.timeout_seconds
        )

    async def webhook_work() -> bool:
        if webhook_dispatcher is None:
            return False
        return (await webhook_dispatcher.tick()).claimed >= webhook_dispatcher.batch_size

    desk_config = DeskConfig.from_settings(settings, policy)
    desk = None
    if desk_config is not None:
        desk = AgentDesk(
            desk_config,
            storage.uow_factory,
            handoff,
            clock,
            on_outbox=wake_outbox,
            limits=_rate_limits(settings),
            follow_ups=surveys,
        )
    if settings.webchat.enabled:
        backend = WebchatBackend(storage.uow, clock, wake_inbox, lambda: holder["app"].bot_username)
        add_webchat_routes(
            web_app,
            backend,
            hub,
            title=settings.webchat.title,
            allowed_origins=list(settings.webchat.allowed_origins),
        )
    app = Nudge(
        settings=settings,
        clock=clock,
        storage=storage,
        outbox=outbox,
        inbox=inbox,
        dispatcher=dispatcher,
        inbox_pump=Pump("inbox", inbox_work),
        outbox_pump=Pump("outbox", outbox_work),
        web_app=web_app,
        hub=hub,
        handoff=handoff,
        handoff_pump=Pump("handoff", handoff_work),
        desk=desk,
        events=events,
        funnels=library,
        funnel_runner=runner,
        funnel_pump=Pump("funnels", funnel_work),
        event_pump=Pump("shop-events", event_work),
        scan_pump=Pump("funnel-scans", scan_work),
        webhook_publisher=publisher,
        webhook_pump=Pump("webhooks", webhook_work),
        webhook_dispatcher=webhook_dispatcher,
        leader=leader,
        leader_pump=Pump("leader", _leader_work(leader)),
        knowledge=knowledge,
        kb_watcher=watcher,
        telegram_bot=bot,
        telegram=receiver,
    )
    holder["app"] = app

    async def wake_cluster_jobs() -> None:
        app.scan_pump.wake()
        app.handoff_pump.wake()

    leader.on_gained.append(wake_cluster_jobs)
    return app


def _leader_work(leader: LeaderLease) -> Any:
    async def renew() -> bool:
        await leader.renew()
        return False

    return renew


def _knowledge_parts(
    settings: Settings, renderer: Renderer
) -> tuple[KnowledgeBase | None, KbWatcher | None, KnowledgeResponder | None]:
    config = settings.knowledge
    if not config.enabled:
        return None, None, None
    knowledge = configured_knowledge_base(config)

    def apply(change: KbChange) -> None:
        knowledge.apply(change)
        if change.upserted_ids or change.removed_ids:
            log.info(
                "knowledge base: %d updated, %d removed",
                len(change.upserted_ids),
                len(change.removed_ids),
            )

    watcher = KbWatcher(Path(config.folder), apply)
    thresholds = configured_thresholds(config)
    return knowledge, watcher, KnowledgeResponder(knowledge, thresholds, renderer)


def _telegram_parts(
    settings: Settings, clock: Clock, storage: Storage, wake_inbox: Any
) -> tuple[Bot | None, TelegramReceiver | None]:
    token = settings.secrets.telegram_token
    if token is None:
        return None, None
    telegram = settings.telegram
    bot = build_bot(
        token.get_secret_value(),
        telegram.api_server,
        telegram.request_timeout_seconds,
        connection_limit=max(settings.delivery.concurrency, 10),
    )
    secret = settings.secrets.telegram_webhook_secret
    receiver = TelegramReceiver(
        storage.uow,
        clock,
        wake_inbox,
        webhook_secret=secret.get_secret_value() if secret else None,
        bot=bot,
    )
    return bot, receiver


def _funnel_parts(
    settings: Settings,
    storage: Storage,
    renderer: Renderer,
    outbox: Outbox,
    clock: Clock,
    handoff: HandoffService,
    policy: HandoffPolicy,
) -> tuple[FunnelLibrary, FunnelRunner]:
    config = settings.funnels
    cap = None
    if config.frequency_cap_messages:
        cap = FrequencyCap(config.frequency_cap_messages, config.cap_period)
    rules = FunnelRules(config.timezone, settings.bot.default_language, cap)
    library = FunnelLibrary(Path(config.folder), renderer)
    runner = FunnelRunner(
        storage.uow,
        library.current,
        renderer,
        outbox,
        rules,
        clock,
        handoff=handoff if policy.enabled else None,
        batch_size=config.batch_size,
    )
    return library, runner


def _reports_for(settings: Settings, clock: Clock, library: FunnelLibrary) -> ReportsFor:
    """The console dashboard's reports: in the funnels' time zone, steps in file order."""

    def step_order() -> dict[str, list[str]]:
        return {funnel.id: [step.id for step in funnel.steps] for funnel in library.current()}

    zone = settings.funnels.timezone
    return lambda uows: ReportService(uows, clock, zone, step_order=step_order)


def _rate_limits(settings: Settings) -> RateLimits:
    delivery = settings.delivery
    global_rate = (
        delivery.paid_broadcast_per_second
        if delivery.paid_broadcast
        else delivery.global_per_second
    )
    return RateLimits(
        global_per_second=global_rate,
        per_chat_per_second=delivery.per_chat_per_second,
        per_group_per_minute=delivery.per_group_per_minute,
        enabled=delivery.limits_enabled,
    )
