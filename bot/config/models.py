"""Typed settings: one pydantic model per `config.yaml` section, all with working defaults."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bot.config.base import Section, check_language
from bot.config.funnels import FunnelsSettings
from bot.config.handoff import HandoffSettings
from bot.config.surveys import SurveysSettings
from bot.config.urls import check_database_url, check_http_url, check_origin, redact_password
from bot.config.webhooks import WebhooksSettings

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/nudge.db"
TELEGRAM_API = "https://api.telegram.org"


class StorageSettings(Section):
    url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)

    @field_validator("url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        return check_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.url.lower().startswith("sqlite")

    def redacted_url(self) -> str:
        """The URL with any password hidden, for logs and `nudge check`."""
        return redact_password(self.url)


class WebSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None

    @field_validator("public_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)


class TelegramSettings(Section):
    mode: Literal["polling", "webhook"] = "polling"
    api_server: str = TELEGRAM_API
    webhook_path: str = "/telegram/webhook"
    polling_timeout_seconds: int = Field(default=25, ge=0, le=50)
    request_timeout_seconds: float = Field(default=15.0, gt=0)
    # Polling: the web process holding the `telegram-poller` lease polls; if it dies, another
    # takes over once this has run out (bot/channels/telegram/polling_lease.py).
    polling_lease_seconds: float = Field(default=30.0, ge=1, le=3600)

    @field_validator("mode", mode="before")
    @classmethod
    def _lower_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("api_server")
    @classmethod
    def _absolute_api_server(cls, value: str) -> str:
        return check_http_url(value)

    @field_validator("webhook_path")
    @classmethod
    def _rooted_path(cls, value: str) -> str:
        if not value.startswith("/") or any(c in value for c in " ?#"):
            raise ValueError("must be a URL path that starts with '/', like /telegram/webhook")
        return value


class WebchatSettings(Section):
    enabled: bool = True
    title: str = "Chat with us"
    allowed_origins: list[str] = Field(default_factory=list)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [check_origin(origin) for origin in value]


class BotSettings(Section):
    default_language: str = "en"
    languages: list[str] = Field(default_factory=lambda: ["en", "ru", "ro", "ko"], min_length=1)
    templates_dir: str = "templates"

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        return check_language(value)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        codes = [check_language(code) for code in value]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once")
        return codes


class DeliverySettings(Section):
    limits_enabled: bool = True
    global_per_second: float = Field(default=25.0, gt=0)
    per_chat_per_second: float = Field(default=1.0, gt=0)
    per_group_per_minute: float = Field(default=20.0, gt=0)
    paid_broadcast: bool = False
    paid_broadcast_per_second: float = Field(default=1000.0, gt=0, le=1000)
    batch_size: int = Field(default=200, ge=1)
    tick_seconds: float = Field(default=0.2, gt=0)
    concurrency: int = Field(default=64, ge=1)
    max_attempts: int = Field(default=8, ge=1)
    backoff_initial_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    # Several worker processes: one count of the rate limits for all of them, in Redis
    # (redis://host:6379/0; a password goes in NUDGE_DELIVERY__REDIS_URL, not in this file).
    # None: each process counts alone, right for a single process.
    redis_url: str | None = None
    # How long a claimed message is its worker's: after that, if still unsent, its worker is
    # taken for dead and the message is recorded as outcome unknown. Far above a request's time.
    lease_seconds: float = Field(default=120.0, gt=0)


class KnowledgeSettings(Section):
    enabled: bool = True
    folder: str = "knowledge_base"
    reload_seconds: float = Field(default=2.0, ge=0)
    # `wordllama` adds a sentence-embedding view (the `nudge[embeddings]` extra, weights
    # shipped in its wheel, never downloaded): bot/knowledge/embeddings.py.
    embeddings: Literal["none", "wordllama"] = "none"
    # Compared with scores less half the field mean (bot/knowledge/decision.py). None: the
    # values tuned on CLINC150 validation for the ranking in use (with or without embeddings).
    answer_threshold: float | None = Field(default=None, ge=0, le=1)
    choices_threshold: float | None = Field(default=None, ge=0, le=1)
    answer_margin: float = Field(default=0.0, ge=0, le=1)

    @field_validator("embeddings")
    @classmethod
    def _model_installed(cls, value: str) -> str:
        if value != "none" and importlib.util.find_spec(value) is None:
            raise ValueError(
                f"{value} is not installed: pip install 'nudge[embeddings]' "
                "(or set knowledge.embeddings: none)"
            )
        return value


class InboundSettings(Section):
    batch_size: int = Field(default=100, ge=1)


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class Secrets(BaseModel):
    """Secrets, read only from the environment (`NUDGE_TELEGRAM_TOKEN` and friends)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    agent_desk_token: SecretStr | None = None
    events_secret: SecretStr | None = None
    secret_key: SecretStr | None = None
    database_password: SecretStr | None = None


SECTIONS: dict[str, type[Section]] = {
    "storage": StorageSettings,
    "web": WebSettings,
    "telegram": TelegramSettings,
    "webchat": WebchatSettings,
    "bot": BotSettings,
    "delivery": DeliverySettings,
    "knowledge": KnowledgeSettings,
    "inbound": InboundSettings,
    "logging": LoggingSettings,
    "handoff": HandoffSettings,
    "funnels": FunnelsSettings,
    "webhooks": WebhooksSettings,
    "surveys": SurveysSettings,
}
"""The sections of `config.yaml`, by name."""


class Settings(BaseModel):
    """Everything the bot is configured with. `Settings()` is the all-defaults configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    storage: StorageSettings = Field(default_factory=StorageSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    webchat: WebchatSettings = Field(default_factory=WebchatSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    inbound: InboundSettings = Field(default_factory=InboundSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    funnels: FunnelsSettings = Field(default_factory=FunnelsSettings)
    webhooks: WebhooksSettings = Field(default_factory=WebhooksSettings)
    surveys: SurveysSettings = Field(default_factory=SurveysSettings)
    secrets: Secrets = Field(default_factory=Secrets)
    config_path: Path = Path("config.yaml")
    """The config file looked at (absolute once loaded)."""
    config_found: bool = False
    """Whether `config_path` existed and was read; False means defaults plus environment."""
