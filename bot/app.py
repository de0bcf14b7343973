"""The composition root: builds storage, services and adapters from settings into a `Nudge`
process (bot/process.py), which starts and stops them. Nothing is built at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.builders import (
    agent_desk,
    funnel_parts,
    knowledge_parts,
    leader_work,
    outbox_dispatcher,
    rate_limits,
    reports_for,
    survey_parts,
    telegram_parts,
    webhooks_dispatcher,
)
from bot.channels.telegram.gateway import TelegramGateway
from bot.channels.telegram.translate import to_event as telegram_event
from bot.channels.webchat.backend import WebchatBackend
from bot.channels.webchat.gateway import WebchatGateway
from bot.channels.webchat.inbound import to_event as webchat_event
from bot.cluster.identity import worker_id
from bot.cluster.limiters import build_hub, build_limiter
from bot.config import Settings
from bot.conversation.escalation import Escalation
from bot.conversation.inbox import InboxProcessor, Translator
from bot.conversation.service import ConversationService
from bot.delivery.limits import SendLimiter
from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock, SystemClock
from bot.domain.model import Channel
from bot.domain.ports import ChannelGateway
from bot.events.service import EventsService
from bot.events.webhooks import WebhookPublisher
from bot.funnel.event_feed import EventFeed
from bot.funnel.hooks import FunnelHooks
from bot.funnel.scans import FunnelScans
from bot.handoff.policy import HandoffPolicy
from bot.handoff.service import HandoffService, TickReport
from bot.process import Nudge, Role
from bot.rendering import Renderer
from bot.scheduling.leader import LeaderLease, on_leader_only
from bot.scheduling.pump import Pump
from bot.storage.uow import Storage
from bot.web.app import build_web_app
from bot.web.console import setup_console
from bot.web.events_routes import add_events_routes
from bot.web.webchat_routes import add_webchat_routes

__all__ = ["Nudge", "Role", "build_nudge"]


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

    bot, receiver = telegram_parts(settings, clock, storage, wake_inbox)
    if bot is not None:
        gateways[Channel.TELEGRAM] = TelegramGateway(
            bot, paid_broadcast=settings.delivery.paid_broadcast
        )
        translators[Channel.TELEGRAM] = telegram_event
        limiters[Channel.TELEGRAM] = build_limiter(rate_limits(settings), clock, settings, worker)
    renderer = Renderer(Path(settings.bot.templates_dir), settings.bot.default_language)
    outbox = Outbox({channel: g.max_text_length for channel, g in gateways.items()})
    knowledge, watcher, responder = knowledge_parts(settings, renderer)
    policy = HandoffPolicy.from_settings(settings.handoff)
    handoff = HandoffService(policy, renderer, outbox, clock)
    escalation = Escalation(handoff, policy.triggers, renderer) if policy.enabled else None
    library, runner = funnel_parts(settings, storage, renderer, outbox, clock, handoff, policy)
    runner.on_outbox = wake_outbox
    funnel_hooks = FunnelHooks(runner, library.current)
    survey_library, surveys = survey_parts(settings, renderer, outbox, clock, handoff, policy)
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
    dispatcher = outbox_dispatcher(settings, storage, gateways, limiters, clock, worker)

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
            reports=reports_for(settings, clock, library),
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
    webhook_dispatcher = webhooks_dispatcher(settings, storage, clock, signing_key)

    async def webhook_work() -> bool:
        if webhook_dispatcher is None:
            return False
        return (await webhook_dispatcher.tick()).claimed >= webhook_dispatcher.batch_size

    desk = agent_desk(settings, policy, storage, handoff, clock, wake_outbox, surveys)
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
        leader_pump=Pump("leader", leader_work(leader)),
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
