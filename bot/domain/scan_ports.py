"""Storage port of the funnel scans: the triggers that come from time, not from an event.

A scan walks rows in a fixed order, `(at, id)`, from a stored position, a bounded batch at a
time. Each row it meets is a *moment* a trigger may fire: our message that may have become the
last word of a conversation (`stalled`), the contact's message or purchase that may have
become their last one (`quiet`). A moment is looked at once, when it is `after` old; the
position then moves past it, so a tick's work is bounded and nothing is looked at twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.model import ConversationStatus

QUESTION_MARKS = ("?", "\uff1f", "\u061f")  # ASCII, full-width (CJK), Arabic


@dataclass(frozen=True, slots=True)
class ScanPosition:
    """Where a scan stopped: the `(at, id)` of the last row it looked at (rows with a later
    `at`, or the same `at` and a higher `id`, come next)."""

    at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class StalledCandidate:
    """A conversation whose latest message is ours (`message_id`) and at least `after` old."""

    message_id: int
    conversation_id: int
    contact_id: int
    status: ConversationStatus
    sent_at: datetime
    text: str

    @property
    def position(self) -> ScanPosition:
        return ScanPosition(self.sent_at, self.message_id)


@dataclass(frozen=True, slots=True)
class QuietCandidate:
    """A contact whose latest message to us (or latest paid order) is `since`: `source_id` is
    that message's id (or that `order_paid` api event's id)."""

    contact_id: int
    source_id: int
    since: datetime

    @property
    def position(self) -> ScanPosition:
        return ScanPosition(self.since, self.source_id)


class FunnelScanRepository(Protocol):
    """Each method returns up to `limit` candidates in `(at, id)` order, strictly after
    `after` (from the beginning when None) and at or before `older_than`."""

    async def stalled_conversations(
        self,
        older_than: datetime,
        status: ConversationStatus | None,
        question_only: bool,
        after: ScanPosition | None,
        limit: int,
    ) -> list[StalledCandidate]:
        """Our messages (outbound: bot, agent or system) that are the latest message of their
        conversation, sent at or before `older_than`, the conversation in `status` (any when
        None). `question_only` keeps only texts with one of `QUESTION_MARKS` somewhere: a
        cheap superset; whether the message *ends* with a question is the caller's call."""
        ...

    async def quiet_contacts(
        self, older_than: datetime, after: ScanPosition | None, limit: int
    ) -> list[QuietCandidate]:
        """Contacts whose latest inbound message was written at or before `older_than`; one
        per contact (that latest message)."""
        ...

    async def lapsed_buyers(
        self, older_than: datetime, after: ScanPosition | None, limit: int
    ) -> list[QuietCandidate]:
        """Contacts whose latest `order_paid` event (any processing status, by its
        `occurred_at`) happened at or before `older_than`; one per contact."""
        ...
