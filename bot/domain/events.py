"""Events a shop sends us (the Events API) and the webhooks we send out.

An `ApiEvent` is stored as received, with the contact it was resolved to, so the funnel engine
can consume it later; a `WebhookDelivery` is one POST owed to one subscribed endpoint.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class ApiEventStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


@dataclass(slots=True)
class ApiEvent:
    """One event posted to `POST /api/v1/events`; `key` is the sender's id (idempotency)."""

    id: int
    key: str
    type: str
    contact_id: int
    data: dict[str, Any]
    occurred_at: datetime
    received_at: datetime
    status: ApiEventStatus = ApiEventStatus.PENDING
    error: str | None = None
    processed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactRef:
    """How a sender names a contact: any of these; the first that matches wins (see
    `bot.events.contacts`). Phone and email are already normalised."""

    id: int | None = None
    external_id: str | None = None
    telegram_user_id: int | None = None
    phone: str | None = None
    email: str | None = None
    name: str | None = None  # a display name for a contact created from this reference

    @property
    def creatable(self) -> bool:
        """A contact we do not know can be created only from the shop's own identifiers."""
        return self.id is None and self.telegram_user_id is None


class WebhookStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher until its lease (next_attempt_at) runs out
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(slots=True)
class WebhookDelivery:
    """One outbound webhook: one event for one endpoint."""

    id: int
    event_key: str
    endpoint: str
    event_type: str
    payload: dict[str, Any]
    status: WebhookStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None
