"""Storage ports of the Events API and the outbound webhooks.

`EventsUnitOfWork` is the unit of work these services need: the usual one plus the two
repositories below. Once `UnitOfWork` itself declares them, every `UnitOfWork` is one.
The contact lookups by the shop's identifiers are `IdentifiedContactRepository`; until
`ContactRepository` declares them too, `identified_contacts` checks a repository has them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.domain.events import ApiEvent, WebhookDelivery
from bot.domain.model import Contact
from bot.domain.ports import ContactRepository, UnitOfWork


@runtime_checkable
class IdentifiedContactRepository(ContactRepository, Protocol):
    """Contacts, also found by the identifiers a shop knows them by (unique when set)."""

    async def find_by_external_id(self, external_id: str) -> Contact | None: ...

    async def find_by_phone(self, phone: str) -> Contact | None:
        """`phone` normalised (`+` and digits)."""
        ...

    async def find_by_email(self, email: str) -> Contact | None:
        """`email` normalised (lower-case)."""
        ...

    async def create_identified(
        self,
        display_name: str,
        external_id: str | None,
        phone: str | None,
        email: str | None,
    ) -> Contact | None:
        """A new contact holding these identifiers; None (nothing stored) when another contact
        holds one of them already, e.g. one created by a concurrent request."""
        ...


def identified_contacts(contacts: ContactRepository) -> IdentifiedContactRepository:
    """`contacts`, typed with the lookups by shop identifiers (every storage has them)."""
    if not isinstance(contacts, IdentifiedContactRepository):
        raise TypeError(f"{type(contacts).__name__} cannot find contacts by shop identifiers")
    return contacts


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


class EventsUnitOfWork(UnitOfWork, Protocol):
    api_events: ApiEventRepository
    webhooks: WebhookDeliveryRepository

    async def __aenter__(self) -> EventsUnitOfWork: ...


class EventsUnitOfWorkFactory(Protocol):
    def __call__(self) -> EventsUnitOfWork: ...
