"""Storage ports of the funnel engine: enrollments, coupon pools and the funnel log.

The database runner works on stored enrollments in batches: it claims the due ones (a lease
keeps a second worker off them, and brings them back if the worker dies), runs the engine and
saves each with a compare-and-set on `version`, so a worker whose lease ran out cannot overwrite
the newer state another worker wrote.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.funnel import Enrollment, EnrollmentStatus


class FunnelLogKind(enum.StrEnum):
    ENTERED = "entered"
    SENT = "sent"  # a marketing message was queued: what the frequency cap counts
    NOTIFIED = "notified"  # a service message (`marketing: false`) was queued: not capped
    DELAYED = "delayed"  # quiet hours, frequency cap
    SKIPPED = "skipped"  # a step removed from the file, a condition that did not hold
    WAITED = "waited"
    REPLIED = "replied"
    BUTTON = "button"
    EXITED = "exited"
    COMPLETED = "completed"
    EXPIRED = "expired"
    FAILED = "failed"
    GOAL = "goal"


@dataclass(frozen=True, slots=True)
class FunnelLogEntry:
    """One line of an enrollment's story; `id` is 0 until stored."""

    enrollment_id: int
    funnel_id: str
    contact_id: int
    step_id: str | None
    kind: FunnelLogKind
    at: datetime
    detail: str | None = None
    variant: str | None = None
    id: int = 0

    @classmethod
    def of(
        cls,
        enrollment: Enrollment,
        kind: FunnelLogKind,
        at: datetime,
        detail: str | None = None,
        step_id: str | None = None,
    ) -> FunnelLogEntry:
        """An entry about `enrollment`, at its current step unless `step_id` is given."""
        return cls(
            enrollment_id=enrollment.id,
            funnel_id=enrollment.funnel_id,
            contact_id=enrollment.contact_id,
            step_id=step_id if step_id is not None else enrollment.step_id,
            kind=kind,
            at=at,
            detail=detail,
            variant=enrollment.variant,
        )


class EnrollmentRepository(Protocol):
    async def add(self, enrollment: Enrollment) -> Enrollment:
        """Store a new enrollment (its `id` is ignored); returns it with its id, version 0."""
        ...

    async def add_many(self, enrollments: Iterable[Enrollment]) -> list[int]:
        """Store many in one batch statement; their ids, in the order given."""
        ...

    async def get(self, enrollment_id: int) -> Enrollment | None: ...

    async def open_for_contact(self, contact_id: int) -> list[Enrollment]:
        """The contact's RUNNING / WAITING_REPLY enrollments in any funnel, oldest first."""
        ...

    async def open_for(self, contact_id: int, funnel_id: str) -> Enrollment | None:
        """The contact's open enrollment in this funnel (the latest, should there be two)."""
        ...

    async def last_for(self, contact_id: int, funnel_id: str) -> Enrollment | None:
        """The contact's latest enrollment in this funnel, in any status (re-entry policy)."""
        ...

    async def entry_states(
        self, contact_ids: Iterable[int], funnel_id: str
    ) -> dict[int, tuple[Enrollment, bool]]:
        """`last_for` of many contacts at once, with whether each is inside the funnel now;
        contacts never enrolled there are left out."""
        ...

    async def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[Enrollment]:
        """Up to `limit` open enrollments with `due_at <= now`, oldest due first, leased.

        Stored: `due_at` becomes `lease_until` and `version` goes up by one, so no other claim
        takes them until the lease runs out (a crashed worker's rows then come back). Returned:
        the stored version (pass it to `save` as `expected_version`) and the `due_at` the claim
        found, so the engine can tell how late the step is."""
        ...

    async def save(self, enrollment: Enrollment, expected_version: int) -> bool:
        """Write the mutable fields (status, step ids, due_at, waiting_since, variables,
        variant, updated_at, ended_at, end_reason) if the stored version is still
        `expected_version`; then the version goes up by one, in the store and on `enrollment`.
        False (nothing written) when someone else wrote it since."""
        ...

    async def save_many(self, items: Sequence[tuple[Enrollment, int]]) -> list[bool]:
        """`save` for a batch of (enrollment, expected_version), each once, in ONE statement:
        whether each was written, in the order given."""
        ...

    async def exit_open_for_contact(
        self, contact_id: int, reason: str, at: datetime, funnel_id: str | None = None
    ) -> list[Enrollment]:
        """End the contact's open enrollments (in `funnel_id` only, if given) as EXITED with
        `reason`, in one statement; returns them as stored now, by id."""
        ...

    async def count_open(self) -> int: ...

    async def count_by_status(self, funnel_id: str | None = None) -> dict[EnrollmentStatus, int]:
        """Every status (0 when it has no rows), of one funnel or of all."""
        ...


class CouponRepository(Protocol):
    async def load(self, pool: str, codes: Iterable[str]) -> int:
        """Add codes to `pool`; codes already there are skipped. Returns how many were new."""
        ...

    async def assign(self, pool: str, contact_id: int, at: datetime) -> str | None:
        """The contact's code from `pool`: the one it was given before, else a free one now
        given to it; None when the pool has no free code. Two concurrent calls never hand the
        same code to two contacts, nor two codes to one contact."""
        ...

    async def remaining(self, pool: str) -> int:
        """Free codes left in `pool`."""
        ...


class FunnelLogRepository(Protocol):
    async def add(self, entry: FunnelLogEntry) -> FunnelLogEntry:
        """Store `entry` (its `id` is ignored); returns it with its id."""
        ...

    async def add_many(self, entries: Iterable[FunnelLogEntry]) -> int:
        """Store many in one batch statement; returns how many."""
        ...

    async def count_sent_since(self, contact_id: int, since: datetime) -> int:
        """SENT entries of the contact at or after `since`, across funnels (frequency cap)."""
        ...

    async def sent_times_since_many(
        self, contact_ids: Iterable[int], since: datetime
    ) -> dict[int, list[datetime]]:
        """`sent_times_since` of many contacts at once (a contact with none is left out)."""
        ...

    async def sent_times_since(self, contact_id: int, since: datetime) -> list[datetime]:
        """When those were sent, oldest first (the cap's "next free slot")."""
        ...

    async def for_enrollment(self, enrollment_id: int) -> list[FunnelLogEntry]:
        """The enrollment's story, in the order it was written."""
        ...
