"""Typed settings from `config.yaml` plus `NUDGE_*` environment variables.

`load_settings()` returns `Settings` or raises `ConfigError` listing every problem;
`check_settings()` returns the same problems instead (for `nudge check`).
"""

from bot.config.environment import CONFIG_VARIABLE, ENV_PREFIX, override_name
from bot.config.handoff import HandoffSettings
from bot.config.loader import DEFAULT_CONFIG_PATH, check_settings, load_settings
from bot.config.models import (
    SECTIONS,
    BotSettings,
    DeliverySettings,
    InboundSettings,
    LoggingSettings,
    Secrets,
    Settings,
    StorageSettings,
    TelegramSettings,
    WebchatSettings,
    WebSettings,
)
from bot.config.problems import ENVIRONMENT, ConfigError, ConfigProblem, format_problems
from bot.config.secret_env import (
    AGENT_DESK_TOKEN,
    DATABASE_PASSWORD,
    EVENTS_SECRET,
    SECRET_KEY,
    SECRET_VARIABLES,
    TELEGRAM_TOKEN,
    TELEGRAM_WEBHOOK_SECRET,
)
from bot.config.webhooks import WebhookEndpoint, WebhooksSettings

__all__ = [
    "AGENT_DESK_TOKEN",
    "CONFIG_VARIABLE",
    "DATABASE_PASSWORD",
    "DEFAULT_CONFIG_PATH",
    "ENVIRONMENT",
    "ENV_PREFIX",
    "EVENTS_SECRET",
    "SECRET_KEY",
    "SECRET_VARIABLES",
    "SECTIONS",
    "TELEGRAM_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "BotSettings",
    "ConfigError",
    "ConfigProblem",
    "DeliverySettings",
    "HandoffSettings",
    "InboundSettings",
    "LoggingSettings",
    "Secrets",
    "Settings",
    "StorageSettings",
    "TelegramSettings",
    "WebSettings",
    "WebchatSettings",
    "WebhookEndpoint",
    "WebhooksSettings",
    "check_settings",
    "format_problems",
    "load_settings",
    "override_name",
]
