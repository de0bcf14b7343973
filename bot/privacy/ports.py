"""What the privacy service needs of storage (`bot.storage.repositories.privacy` has it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.domain.funnel_ports import EnrollmentRepository, FunnelLogRepository
from bot.domain.ports import ContactRepository, IdentityRepository, OutboxRepository


class PrivacyRepository(Protocol):
    async def export(self, contact_id: int) -> dict[str, Any]:
        """{"contact": row or None, table name: [rows]} for every table holding the person."""
        ...

    async def erase(
        self, contact_id: int, at: datetime, attributes: dict[str, Any]
    ) -> dict[str, int]:
        """Empty every personal column of the person's rows, leaving the contact only
        `attributes`; counts of what was touched."""
        ...

    async def record(self, action: str, contact_id: int, actor: str, at: datetime) -> None:
        """An audit line: who, when, which request, about which contact id."""
        ...


class PrivacyUnitOfWork(Protocol):
    """One transaction over the repositories a privacy request touches."""

    # Read-only properties: a storage's unit of work may hold more specific repositories.
    @property
    def contacts(self) -> ContactRepository: ...

    @property
    def identities(self) -> IdentityRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def enrollments(self) -> EnrollmentRepository: ...

    @property
    def funnel_log(self) -> FunnelLogRepository: ...

    @property
    def privacy(self) -> PrivacyRepository: ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> PrivacyUnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...


__all__ = ["PrivacyRepository", "PrivacyUnitOfWork"]
