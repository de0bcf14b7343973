"""What happened to each send, and how it is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.delivery.retry import RetryPolicy
from bot.domain.model import OutboundMessage, OutboxStatus
from bot.domain.ports import (
    SendBlocked,
    SendOk,
    SendOutcomeUnknown,
    SendRejected,
    SendResult,
    SendRetryAfter,
    SendTransientError,
    UnitOfWork,
)


class Action(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    UNKNOWN = "unknown"
    RETRY = "retry"  # a failed try: counted, tried again later
    DEFER = "deferred"  # not tried (rate limit, held behind another row): not counted
    BLOCKED = "blocked"  # failed, and the contact is marked blocked


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    reason: str | None = None
    retry_at: datetime | None = None
    channel_message_id: str | None = None

    @classmethod
    def suppress(cls, reason: str) -> Verdict:
        return cls(Action.SUPPRESSED, reason)

    @classmethod
    def defer(cls, retry_at: datetime, reason: str | None) -> Verdict:
        return cls(Action.DEFER, reason, retry_at)

    @property
    def label(self) -> str:
        return self.action.value

    @property
    def stops_chat(self) -> bool:
        """After this outcome, later rows of the same chat must not overtake."""
        return self.action in (Action.RETRY, Action.DEFER, Action.BLOCKED)

    def for_row_behind(self) -> Verdict:
        if self.action is Action.BLOCKED:
            return Verdict.suppress("contact blocked the bot")
        assert self.retry_at is not None
        return Verdict.defer(self.retry_at, "waiting for an earlier message to the same chat")


@dataclass(frozen=True, slots=True)
class Outcome:
    row: OutboundMessage
    verdict: Verdict


class OutcomeRecorder:
    def __init__(self, retry: RetryPolicy) -> None:
        self._retry = retry

    def judge(self, row: OutboundMessage, result: SendResult, now: datetime) -> Verdict:
        match result:
            case SendOk(channel_message_id=message_id):
                return Verdict(Action.SENT, channel_message_id=message_id)
            case SendRetryAfter(seconds=seconds, reason=reason):
                # The dispatcher also blocks the chat in its rate limiter until then.
                return self._retry_or_fail(row, now + timedelta(seconds=seconds), reason)
            case SendTransientError(reason=reason):
                return self._retry_or_fail(row, now + self._retry.backoff(row.attempts), reason)
            case SendBlocked(reason=reason):
                return Verdict(Action.BLOCKED, reason)
            case SendRejected(reason=reason):
                return Verdict(Action.FAILED, reason)
            case SendOutcomeUnknown(reason=reason):
                return Verdict(Action.UNKNOWN, reason)
        raise AssertionError(f"unexpected send result {result!r}")

    def _retry_or_fail(self, row: OutboundMessage, at: datetime, reason: str) -> Verdict:
        if self._retry.gives_up_after(row.attempts):
            return Verdict(Action.FAILED, f"gave up after {row.attempts + 1} attempts: {reason}")
        return Verdict(Action.RETRY, reason, at)

    async def record(self, uow: UnitOfWork, outcomes: Sequence[Outcome], now: datetime) -> None:
        # Sent rows, nearly all of a batch, are stored in two round trips rather than two per
        # row: with PostgreSQL's latency per statement, row by row took as long as sending.
        sent = [
            (o.row.id, o.verdict.channel_message_id)
            for o in outcomes
            if o.verdict.action is Action.SENT and o.verdict.channel_message_id is not None
        ]
        await uow.outbox.mark_sent_many(sent, now)
        await uow.messages.set_channel_message_ids(sent)
        for outcome in outcomes:
            verdict = outcome.verdict
            if verdict.action is not Action.SENT or verdict.channel_message_id is None:
                await self._record_one(uow, outcome.row, verdict, now)

    async def _record_one(
        self, uow: UnitOfWork, row: OutboundMessage, verdict: Verdict, now: datetime
    ) -> None:
        action = verdict.action
        if action in (Action.RETRY, Action.DEFER):
            assert verdict.retry_at is not None
            await uow.outbox.reschedule(
                row.id, verdict.retry_at, verdict.reason, attempt=action is Action.RETRY
            )
            return
        if action is Action.SENT:
            assert verdict.channel_message_id is not None
            await uow.outbox.finish(
                row.id, OutboxStatus.SENT, now, channel_message_id=verdict.channel_message_id
            )
            await uow.messages.set_channel_message_id(row.id, verdict.channel_message_id)
            return
        status = _FINAL_STATUS[action]
        await uow.outbox.finish(row.id, status, now, reason=verdict.reason)
        if action is Action.BLOCKED:
            await _mark_blocked(uow, row.contact_id, now)


_FINAL_STATUS = {
    Action.FAILED: OutboxStatus.FAILED,
    Action.SUPPRESSED: OutboxStatus.SUPPRESSED,
    Action.UNKNOWN: OutboxStatus.UNKNOWN,
    Action.BLOCKED: OutboxStatus.FAILED,
}


async def _mark_blocked(uow: UnitOfWork, contact_id: int, now: datetime) -> None:
    contact = await uow.contacts.get(contact_id)
    if contact is not None and not contact.blocked:
        contact.blocked = True
        await uow.contacts.update(contact)
    await uow.outbox.suppress_pending_for_contact(
        contact_id, "contact blocked the bot", now, marketing_only=False
    )
