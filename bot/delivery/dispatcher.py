"""The one dispatcher every outbound message goes through.

A tick claims due rows, screens them (suppression, rate limits), commits them as SENDING with
this worker's lease, sends them, and records each outcome. Committing SENDING before the request
goes out is what makes a crash safe: a row left SENDING by a dead worker is never sent again
blindly; once its lease has run out, any worker records it as outcome unknown (`recover`, run at
start and then every `SETTLE_EVERY`). Rows of live workers are never touched: several worker
processes share one database.

Messages to one chat are sent one after another in id order (so parts of a long answer arrive
in order); different chats are sent concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.delivery.limits import SendLimiter, as_send_limiter
from bot.delivery.outcomes import Outcome, OutcomeRecorder, Verdict
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import Clock
from bot.domain.model import Channel, Contact, OutboundMessage
from bot.domain.ports import (
    ChannelGateway,
    SendResult,
    SendRetryAfter,
    SendTransientError,
    UnitOfWorkFactory,
)

log = logging.getLogger(__name__)

UNCONFIGURED_CHANNEL_DELAY = timedelta(seconds=60)
# A claimed row's lease: far longer than a batch takes to send (each request has a timeout), so
# only a dead worker's rows ever run out of it.
DEFAULT_LEASE = timedelta(minutes=2)
SETTLE_EVERY = timedelta(seconds=30)
LIMITER_DOWN_DELAY = timedelta(seconds=1)


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
        limiters: Mapping[Channel, RateLimiter | SendLimiter],
        clock: Clock,
        retry: RetryPolicy,
        *,
        batch_size: int = 200,
        concurrency: int = 64,
        worker_id: str = "local",
        lease: timedelta = DEFAULT_LEASE,
        record_retry_pause: float = 1.0,
    ) -> None:
        self._uow = uow_factory
        self._gateways = dict(gateways)
        self._limiters = {channel: as_send_limiter(lim) for channel, lim in limiters.items()}
        self._clock = clock
        self._recorder = OutcomeRecorder(retry)
        self._batch_size = batch_size
        self._concurrency = asyncio.Semaphore(concurrency)
        self.worker_id = worker_id
        self._lease = lease
        self._next_settle: datetime | None = None
        self._record_retry_pause = record_retry_pause
        # Retries of storing outcomes fit in half the lease: the rows stay this worker's.
        pause = max(record_retry_pause, 0.001)
        self._record_attempts = max(1, int(lease.total_seconds() / 2 / pause))

    async def recover(self) -> int:
        """Rows whose worker died mid-send (lease over): outcome unknown, never resent."""
        now = self._clock.now()
        async with self._uow() as uow:
            count = await uow.outbox.mark_stale_sending_unknown(now)
            await uow.commit()
        self._next_settle = now + SETTLE_EVERY
        if count:
            log.warning("%d outbound message(s) were in flight in a dead worker: unknown", count)
        return count

    async def close(self) -> None:
        """Close what the limiters hold open (a shared limiter's connection)."""
        for limiter in self._limiters.values():
            close = getattr(limiter, "aclose", None)
            if close is not None:
                await close()

    async def tick(self) -> DispatchReport:
        report = DispatchReport()
        now = self._clock.now()
        if self._next_settle is None or now >= self._next_settle:
            await self.recover()
        claim_size = await self._claim_size()
        async with self._uow() as uow:
            rows = await uow.outbox.claim_due(
                now, claim_size, worker=self.worker_id, lease_until=now + self._lease
            )
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
        await self._store_outcomes(outcomes)
        report.outcomes.update(o.verdict.label for o in [*held, *outcomes])
        return report

    async def _store_outcomes(self, outcomes: list[Outcome]) -> None:
        """What the channel answered must not be lost to a database outage: the store is
        tried again (every `record_retry_pause` s, while well within the lease). If it never
        succeeds the rows stay SENDING and are settled as unknown: never resent, never
        recorded sent without an answer that said so."""
        for attempt in range(self._record_attempts):
            try:
                async with self._uow() as uow:
                    await self._recorder.record(uow, outcomes, self._clock.now())
                    await uow.commit()
                return
            except Exception:
                if attempt + 1 == self._record_attempts:
                    raise
                log.exception("storing %d send outcome(s) failed; trying again", len(outcomes))
                await asyncio.sleep(self._record_retry_pause)

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

    async def _claim_size(self) -> int:
        """No more rows than the rate limits let go now: claiming rows only to put them back
        would rewrite a large backlog over and over."""
        if not self._limiters:
            return self._batch_size
        free = min([await limiter.free_global_slots() for limiter in self._limiters.values()])
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
            # The claim screened every row; a /stop stored while this chat's earlier rows went
            # out must hold the later marketing ones too (at most the one in flight gets out).
            verdict = await self._rescreen(row) if index and row.kind.is_marketing else None
            outcome = Outcome(row, verdict) if verdict else await self._send_limited(row)
            outcomes.append(outcome)
            if outcome.verdict.stops_chat:
                outcomes.extend(_held_behind(rows[index + 1 :], outcome.verdict))
                break
        return outcomes

    async def _rescreen(self, row: OutboundMessage) -> Verdict | None:
        """`_screen` again on the contact as stored now; a database out of reach puts the row
        back (it was not sent) rather than sending it unchecked."""
        try:
            async with self._uow() as uow:
                contacts = await uow.contacts.get_many({row.contact_id})
        except Exception as exc:
            later = self._clock.now() + LIMITER_DOWN_DELAY
            return Verdict.defer(later, f"could not re-check the contact: {exc!r}")
        return self._screen(row, contacts.get(row.contact_id))

    async def _send_limited(self, row: OutboundMessage) -> Outcome:
        """Send within the channel's limits, asked right before the request goes out, so the
        limits hold for when messages reach the channel rather than when they were claimed."""
        limiter = self._limiters.get(row.channel)
        key, is_group = _chat_key(row), row.address.startswith("-")
        if limiter is not None:
            try:
                retry_at = await limiter.begin(key, is_group)
            except Exception as exc:  # a shared limiter out of reach: nothing sent, try later
                log.warning("rate limiter unavailable, outbox row %s waits: %r", row.id, exc)
                later = self._clock.now() + LIMITER_DOWN_DELAY
                return Outcome(row, Verdict.defer(later, f"rate limiter unavailable: {exc!r}"))
            if retry_at is not None:
                return Outcome(row, Verdict.defer(retry_at, None))
        try:
            async with self._concurrency:
                result = await self._send_one(row)
        finally:
            if limiter is not None:
                await _tell_limiter(limiter.finish(key, is_group))
        now = self._clock.now()
        if limiter is not None and isinstance(result, SendRetryAfter):
            await _tell_limiter(limiter.block_chat(key, now + timedelta(seconds=result.seconds)))
        return Outcome(row, self._recorder.judge(row, result, now))

    async def _send_one(self, row: OutboundMessage) -> SendResult:
        gateway = self._gateways[row.channel]
        try:
            return await gateway.send(row)
        except Exception as exc:  # a gateway bug must not lose the row: retry it later
            log.exception("gateway %s raised while sending outbox row %s", row.channel, row.id)
            return SendTransientError(f"gateway error: {exc!r}")


async def _tell_limiter(call: Awaitable[None]) -> None:
    """After a send the outcome must be recorded whatever the limiter says: a shared limiter
    that cannot be reached loses this count (its in-flight entry expires on its own)."""
    try:
        await call
    except Exception as exc:
        log.warning("rate limiter unavailable after a send: %r", exc)


def _chat_key(row: OutboundMessage) -> str:
    return f"{row.channel}:{row.address}"


def _held_behind(rows: Iterable[OutboundMessage], blocker: Verdict) -> list[Outcome]:
    """Rows queued behind a failed one in the same chat wait with it, keeping their order."""
    return [Outcome(row, blocker.for_row_behind()) for row in rows]
