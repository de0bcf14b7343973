"""The `webhooks:` section: where Nudge POSTs what happens in its chats and funnels.

Deliveries are signed like the Events API's requests, with `NUDGE_EVENTS_SECRET`; endpoints
without that secret are a configuration problem (see `bot.config.checks`).
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator

from bot.config.base import Section

# An event type ("funnel.goal_reached"), a family ("funnel.*") or everything ("*").
_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")

KNOWN_EVENTS = (
    "funnel.goal_reached",
    "funnel.exited",
    "conversation.handed_off",
    "conversation.closed",
    "survey.answered",
)


def _pattern(value: str) -> str:
    text = value.strip()
    if not _PATTERN.match(text):
        raise ValueError(
            f"'{value}' is not an event type: write one like funnel.goal_reached,"
            " a family like funnel.*, or * for every event"
        )
    return text


EventPattern = Annotated[str, AfterValidator(_pattern)]


class WebhookEndpoint(Section):
    url: str
    events: list[EventPattern] = Field(default_factory=lambda: ["*"], min_length=1)

    @field_validator("url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute URL starting with https:// (or http://)")
        if parts.username or parts.password or parts.fragment:
            raise ValueError("must be a URL without user:password@ or #fragment")
        return value.strip()

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribed to events of `event_type`."""
        return any(_matches(pattern, event_type) for pattern in self.events)


def _matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


class WebhooksSettings(Section):
    endpoints: list[WebhookEndpoint] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_initial_seconds: float = Field(default=10.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
