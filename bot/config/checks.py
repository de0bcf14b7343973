"""Checks that need more than one setting, and the database password substitution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from bot.config.base import Section
from bot.config.handoff import HandoffSettings, handoff_problems
from bot.config.lease_check import lease_problems
from bot.config.models import (
    TELEGRAM_API,
    BotSettings,
    DeliverySettings,
    Secrets,
    StorageSettings,
    TelegramSettings,
    WebSettings,
)
from bot.config.origins import Origins
from bot.config.problems import ConfigProblem
from bot.config.secret_env import DATABASE_PASSWORD, EVENTS_SECRET, TELEGRAM_WEBHOOK_SECRET
from bot.config.urls import url_has_password, url_user, with_password
from bot.config.webhooks import WebhooksSettings

S = TypeVar("S", bound=Section)


def section(sections: Mapping[str, Section], kind: type[S]) -> S | None:
    """The validated section of type `kind`, or None if it did not validate."""
    return next((value for value in sections.values() if isinstance(value, kind)), None)


def cross_checks(
    sections: Mapping[str, Section], secrets: Secrets, origins: Origins
) -> list[ConfigProblem]:
    """Every cross-field problem among the sections that validated on their own."""
    return [
        *_webhook_checks(sections, secrets, origins),
        *_language_checks(section(sections, BotSettings), origins),
        *_backoff_checks(section(sections, DeliverySettings), origins),
        *lease_problems(
            section(sections, DeliverySettings), section(sections, TelegramSettings), origins
        ),
        *_handoff_checks(section(sections, HandoffSettings), origins),
        *_outbound_webhook_checks(section(sections, WebhooksSettings), secrets, origins),
    ]


def _webhook_checks(
    sections: Mapping[str, Section], secrets: Secrets, origins: Origins
) -> list[ConfigProblem]:
    telegram, web = section(sections, TelegramSettings), section(sections, WebSettings)
    if telegram is None or telegram.mode != "webhook":
        return []
    mode = ("telegram", "mode")
    problems = []
    if secrets.telegram_webhook_secret is None:
        message = f"webhook mode needs {TELEGRAM_WEBHOOK_SECRET} set in the environment"
        problems.append(origins.problem(mode, message))
    if web is not None and web.public_url is None:
        message = "webhook mode needs web.public_url, the https address Telegram can reach"
        problems.append(origins.problem(mode, message))
    official = telegram.api_server == TELEGRAM_API
    if web is not None and web.public_url and official and web.public_url.startswith("http:"):
        message = "must start with https:// because Telegram only calls https webhooks"
        problems.append(origins.problem(("web", "public_url"), message))
    return problems


def _language_checks(bot: BotSettings | None, origins: Origins) -> list[ConfigProblem]:
    if bot is None or bot.default_language in bot.languages:
        return []
    message = f"'{bot.default_language}' is not in bot.languages ({', '.join(bot.languages)})"
    return [origins.problem(("bot", "default_language"), message)]


def _backoff_checks(delivery: DeliverySettings | None, origins: Origins) -> list[ConfigProblem]:
    if delivery is None or delivery.backoff_initial_seconds <= delivery.backoff_max_seconds:
        return []
    limit = f"{delivery.backoff_max_seconds:g}"
    message = f"must not be more than delivery.backoff_max_seconds ({limit})"
    return [origins.problem(("delivery", "backoff_initial_seconds"), message)]


def _handoff_checks(handoff: HandoffSettings | None, origins: Origins) -> list[ConfigProblem]:
    if handoff is None:
        return []
    return [
        origins.problem(("handoff", *path), message) for path, message in handoff_problems(handoff)
    ]


def _outbound_webhook_checks(
    webhooks: WebhooksSettings | None, secrets: Secrets, origins: Origins
) -> list[ConfigProblem]:
    if webhooks is None:
        return []
    problems = []
    if webhooks.endpoints and secrets.events_secret is None:
        message = f"webhook endpoints need {EVENTS_SECRET} set in the environment (to sign them)"
        problems.append(origins.problem(("webhooks", "endpoints"), message))
    if webhooks.backoff_initial_seconds > webhooks.backoff_max_seconds:
        limit = f"{webhooks.backoff_max_seconds:g}"
        message = f"must not be more than webhooks.backoff_max_seconds ({limit})"
        problems.append(origins.problem(("webhooks", "backoff_initial_seconds"), message))
    return problems


def apply_database_password(
    storage: StorageSettings, secrets: Secrets, origins: Origins
) -> tuple[StorageSettings, list[ConfigProblem]]:
    """Put `NUDGE_DATABASE_PASSWORD` into a PostgreSQL URL that has none. A password
    written into config.yaml itself is a problem (one set via NUDGE_STORAGE__URL is fine)."""
    path = ("storage", "url")
    if url_has_password(storage.url):
        if origins.from_env(path) is None:
            message = (
                "remove the password from the URL; secrets come from the environment:"
                f" set {DATABASE_PASSWORD} instead"
            )
            return storage, [origins.problem(path, message)]
        return storage, []
    if secrets.database_password is None or storage.is_sqlite:
        return storage, []
    if not url_user(storage.url):
        message = (
            f"{DATABASE_PASSWORD} is set but the URL names no user:"
            " write it like postgresql+asyncpg://USER@host/dbname"
        )
        return storage, [origins.problem(path, message)]
    url = with_password(storage.url, secrets.database_password.get_secret_value())
    return storage.model_copy(update={"url": url}), []
