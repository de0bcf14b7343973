"""The one dispatcher every outbound message goes through.

A tick claims due rows, screens them (suppression, rate limits), commits them as SENDING,
sends them, and records each outcome. Committing SENDING before the request goes out is what
makes a crash safe: a row left SENDING by a dead process is never sent again blindly; it is
recorded as outcome unknown (`recover`).

Messages to one chat are sent one after another in id order (so parts of a long answer arrive
in order); different chats are sent concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.delivery.outcomes import Outcome, OutcomeRecorder, Verdict
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import Clock
from bot.domain.model import Channel, Contact, OutboundMessage
from bot.domain.ports import ChannelGateway, SendResult, SendTransientError, UnitOfWorkFactory

log = logging.getLogger(__name__)

UNCONFIGURED_CHANNEL_DELAY = timedelta(seconds=60)


@dataclass(slots=True)
class DispatchReport:
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def full_batch(self) -> bool:
        return self.claimed > 0 and self.outcomes.get("deferred", 0) < self.claimed


class Dispatcher:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateways: Mapping[Channel, ChannelGateway],
        limiters: Mapping[Channel, RateLimiter],
        clock: Clock,
        retry: RetryPolicy,
        *,
        batch_size: int = 200,
        concurrency: int = 64,
    ) -> None:
        self._uow = uow_factory
        self._gateways = dict(gateways)
        self._limiters = dict(limiters)
        self._clock = clock
        self._recorder = OutcomeRecorder(retry, limiters)
        self._batch_size = batch_size
        self._concurrency = asyncio.Semaphore(concurrency)

    async def recover(self) -> int:
        """After a crash: rows that were being sent have an unknown outcome. Single-process only."""
        async with self._uow() as uow:
            count = await uow.outbox.mark_stale_sending_unknown(self._clock.now())
            await uow.commit()
        if count:
            log.warning("%d outbound message(s) were in flight at shutdown: outcome unknown", count)
        return count

    async def tick(self) -> DispatchReport:
        report = DispatchReport()
        now = self._clock.now()
        async with self._uow() as uow:
            rows = await uow.outbox.claim_due(now, self._claim_size())
            report.claimed = len(rows)
            if not rows:
                return report
            contacts = await uow.contacts.get_many({row.contact_id for row in rows})
            verdicts = [self._screen(row, contacts.get(row.contact_id)) for row in rows]
            ready = [row for row, verdict in zip(rows, verdicts, strict=True) if verdict is None]
            held = [
                Outcome(row, verdict)
                for row, verdict in zip(rows, verdicts, strict=True)
                if verdict is not None
            ]
            await self._recorder.record(uow, held, now)
            await uow.commit()
        outcomes = await self._send_all(ready)
        async with self._uow() as uow:
            await self._recorder.record(uow, outcomes, self._clock.now())
            await uow.commit()
        report.outcomes.update(o.verdict.label for o in [*held, *outcomes])
        return report

    def _screen(self, row: OutboundMessage, contact: Contact | None) -> Verdict | None:
        """Why this row must not go now, or None when it may."""
        if contact is None:
            return Verdict.suppress("contact no longer exists")
        if contact.blocked:
            return Verdict.suppress("contact blocked the bot")
        if contact.opted_out and row.kind.is_marketing:
            return Verdict.suppress("contact opted out of marketing messages")
        if row.channel not in self._gateways:
            later = self._clock.now() + UNCONFIGURED_CHANNEL_DELAY
            return Verdict.defer(later, f"channel {row.channel} is not configured")
        return None

    def _claim_size(self) -> int:
        """No more rows than the rate limits let go now: claiming rows only to put them back
        would rewrite a large backlog over and over."""
        free = min((limiter.free_global_slots() for limiter in self._limiters.values()), default=0)
        if not self._limiters:
            return self._batch_size
        return max(1, min(self._batch_size, free))

    async def _send_all(self, rows: list[OutboundMessage]) -> list[Outcome]:
        groups: dict[tuple[Channel, str], list[OutboundMessage]] = {}
        for row in rows:
            groups.setdefault((row.channel, row.address), []).append(row)
        results = await asyncio.gather(*(self._send_chat(group) for group in groups.values()))
        return [outcome for chat_outcomes in results for outcome in chat_outcomes]

    async def _send_chat(self, rows: list[OutboundMessage]) -> list[Outcome]:
        """Send one chat's rows in order; after a failure that blocks the chat, hold the rest."""
        outcomes: list[Outcome] = []
        for index, row in enumerate(rows):
            outcome = await self._send_limited(row)
            outcomes.append(outcome)
            if outcome.verdict.stops_chat:
                outcomes.extend(_held_behind(rows[index + 1 :], outcome.verdict))
                break
        return outcomes

    async def _send_limited(self, row: OutboundMessage) -> Outcome:
        """Send within the channel's limits, asked right before the request goes out, so the
        limits hold for when messages reach the channel rather than when they were claimed."""
        limiter = self._limiters.get(row.channel)
        key, is_group = _chat_key(row), row.address.startswith("-")
        if limiter is not None:
            retry_at = limiter.begin(key, is_group)
            if retry_at is not None:
                return Outcome(row, Verdict.defer(retry_at, None))
        try:
            async with self._concurrency:
                result = await self._send_one(row)
        finally:
            if limiter is not None:
                limiter.finish(key, is_group)
        return Outcome(row, self._recorder.judge(row, result, self._clock.now()))

    async def _send_one(self, row: OutboundMessage) -> SendResult:
        gateway = self._gateways[row.channel]
        try:
            return await gateway.send(row)
        except Exception as exc:  # a gateway bug must not lose the row: retry it later
            log.exception("gateway %s raised while sending outbox row %s", row.channel, row.id)
            return SendTransientError(f"gateway error: {exc!r}")


def _chat_key(row: OutboundMessage) -> str:
    return f"{row.channel}:{row.address}"


def _held_behind(rows: Iterable[OutboundMessage], blocker: Verdict) -> list[Outcome]:
    """Rows queued behind a failed one in the same chat wait with it, keeping their order."""
    return [Outcome(row, blocker.for_row_behind()) for row in rows]
