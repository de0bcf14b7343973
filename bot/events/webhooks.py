"""Publishing outbound webhooks: one stored delivery per subscribed endpoint.

`publish` writes in the caller's transaction, so a webhook exists exactly when what it reports
(a goal reached, a chat handed off) was committed. The dispatcher sends it later.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.domain.ports import UnitOfWork


class Endpoint(Protocol):
    """A subscribed URL (`bot.config.WebhookEndpoint`)."""

    @property
    def url(self) -> str: ...

    def wants(self, event_type: str) -> bool: ...


def webhook_body(
    key: str, event_type: str, payload: dict[str, Any], at: datetime
) -> dict[str, Any]:
    """What the endpoint receives: the id to deduplicate on, the type, when, and the data."""
    return {"id": key, "type": event_type, "occurred_at": at.isoformat(), "data": payload}


class WebhookPublisher:
    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self._endpoints = list(endpoints)

    @property
    def enabled(self) -> bool:
        return bool(self._endpoints)

    async def publish(
        self,
        uow: UnitOfWork,
        type: str,
        payload: dict[str, Any],
        at: datetime,
        *,
        key: str | None = None,
    ) -> int:
        """Store a delivery of this event for every endpoint that wants `type`; returns how
        many were stored. A stable `key` (e.g. f"funnel.exited:{enrollment_id}") makes a
        repeated publish store nothing; without one each call is a new event."""
        key = key or uuid.uuid4().hex
        body = webhook_body(key, type, payload, at)
        stored = 0
        for endpoint in self._endpoints:
            if not endpoint.wants(type):
                continue
            if await uow.webhooks.add(key, endpoint.url, type, body, at) is not None:
                stored += 1
        return stored
