"""Builders of the parts of a process that depend on its settings: the Telegram client and
receiver, the knowledge base, the funnels, the dashboard's reports and the rate limits. Used by
the composition root, `bot.app.build_nudge`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot

from bot.analytics import ReportService
from bot.channels.agent_desk.client import DeskConfig
from bot.channels.agent_desk.desk import AgentDesk
from bot.channels.telegram.client import build_bot
from bot.channels.telegram.receiver import TelegramReceiver
from bot.config import Settings
from bot.conversation.knowledge_replies import KnowledgeResponder
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.limits import SendLimiter
from bot.delivery.outbox import Outbox
from bot.delivery.ratelimit import RateLimits
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import Clock
from bot.domain.model import Channel
from bot.domain.ports import ChannelGateway
from bot.events.dispatcher import WebhookDispatcher
from bot.funnel.db_ports import FunnelRules
from bot.funnel.library import FunnelLibrary
from bot.funnel.model import FrequencyCap
from bot.funnel.runner import FunnelRunner
from bot.handoff.policy import HandoffPolicy
from bot.handoff.service import HandoffService
from bot.knowledge.answering import KnowledgeBase
from bot.knowledge.setup import configured_knowledge_base, configured_thresholds
from bot.knowledge.watch import KbChange, KbWatcher
from bot.rendering import Renderer
from bot.scheduling.leader import LeaderLease
from bot.storage.uow import Storage
from bot.surveys.catalog import SurveyLibrary
from bot.surveys.service import SurveyRules, SurveyService
from bot.web.console.context import ReportsFor

log = logging.getLogger(__name__)


def leader_work(leader: LeaderLease) -> Any:
    async def renew() -> bool:
        await leader.renew()
        return False

    return renew


def knowledge_parts(
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


def telegram_parts(
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


def funnel_parts(
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


def reports_for(settings: Settings, clock: Clock, library: FunnelLibrary) -> ReportsFor:
    """The console dashboard's reports: in the funnels' time zone, steps in file order."""

    def step_order() -> dict[str, list[str]]:
        return {funnel.id: [step.id for step in funnel.steps] for funnel in library.current()}

    zone = settings.funnels.timezone
    return lambda uows: ReportService(uows, clock, zone, step_order=step_order)


def rate_limits(settings: Settings) -> RateLimits:
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


def survey_parts(
    settings: Settings,
    renderer: Renderer,
    outbox: Outbox,
    clock: Clock,
    handoff: HandoffService,
    policy: HandoffPolicy,
) -> tuple[SurveyLibrary, SurveyService]:
    library = SurveyLibrary(Path(settings.surveys.folder), renderer)
    library.refresh()
    surveys = SurveyService(
        SurveyRules.from_settings(settings.surveys, settings.bot.default_language),
        library.current,
        renderer,
        outbox,
        clock,
        handoff=handoff if policy.enabled else None,
    )
    return library, surveys


def outbox_dispatcher(
    settings: Settings,
    storage: Storage,
    gateways: dict[Channel, ChannelGateway],
    limiters: dict[Channel, SendLimiter],
    clock: Clock,
    worker: str,
) -> Dispatcher:
    delivery = settings.delivery
    return Dispatcher(
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


def webhooks_dispatcher(
    settings: Settings, storage: Storage, clock: Clock, signing_key: str | None
) -> WebhookDispatcher | None:
    """Outgoing webhooks are sent only when they can be signed and go somewhere."""
    hooks = settings.webhooks
    if not signing_key or not hooks.endpoints:
        return None
    retry = RetryPolicy(
        hooks.max_attempts, hooks.backoff_initial_seconds, hooks.backoff_max_seconds
    )
    return WebhookDispatcher(
        storage.uow, clock, signing_key, retry, timeout_seconds=hooks.timeout_seconds
    )


def agent_desk(
    settings: Settings,
    policy: HandoffPolicy,
    storage: Storage,
    handoff: HandoffService,
    clock: Clock,
    wake_outbox: Callable[[], None],
    surveys: SurveyService,
) -> AgentDesk | None:
    """The agents' Telegram group, when a desk bot is configured."""
    config = DeskConfig.from_settings(settings, policy)
    if config is None:
        return None
    return AgentDesk(
        config,
        storage.uow_factory,
        handoff,
        clock,
        on_outbox=wake_outbox,
        limits=rate_limits(settings),
        follow_ups=surveys,
    )
