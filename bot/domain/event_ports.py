"""Storage ports of the Events API and the outbound webhooks (`UnitOfWork.api_events` and
`UnitOfWork.webhooks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.domain.events import ApiEvent, WebhookDelivery


class ApiEventRepository(Protocol):
    async def add(
        self,
        key: str,
        type: str,
        contact_id: int,
        data: dict[str, Any],
        occurred_at: datetime,
        at: datetime,
    ) -> ApiEvent | None:
        """Store a PENDING event; None when an event with this key exists (no second effect)."""
        ...

    async def get_by_key(self, key: str) -> ApiEvent | None: ...

    async def claim_pending(self, limit: int) -> list[ApiEvent]:
        """Pending events, oldest first, held by this unit of work until it ends."""
        ...

    async def mark(self, event_id: int, processed: bool, error: str | None, at: datetime) -> None:
        """PROCESSED, or FAILED with `error`."""
        ...


class WebhookDeliveryRepository(Protocol):
    async def add(
        self,
        event_key: str,
        endpoint: str,
        event_type: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> WebhookDelivery | None:
        """Store a PENDING delivery due at `at`; None when (event_key, endpoint) exists."""
        ...

    async def get(self, delivery_id: int) -> WebhookDelivery | None: ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[WebhookDelivery]:
        """Due PENDING rows, and SENDING rows whose lease ran out (their dispatcher died),
        switched to SENDING until `lease_until`; oldest due first. A row is never handed to
        two dispatchers while its lease runs."""
        ...

    async def delivered(self, delivery_id: int, at: datetime) -> None: ...

    async def failed(self, delivery_id: int, error: str, at: datetime) -> None:
        """Given up: counts the attempt."""
        ...

    async def retry_at(self, delivery_id: int, when: datetime, error: str, at: datetime) -> None:
        """Back to PENDING until `when`: counts the attempt."""
        ...
