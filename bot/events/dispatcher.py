"""Sending the stored webhook deliveries: claim the due ones, POST them, record each outcome.

A claim commits the rows as SENDING with a lease before any request goes out, so two ticks
(or two processes) never deliver one row at once; a row whose dispatcher died mid-request is
claimed again when its lease runs out. Receivers deduplicate on the payload's `id`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.delivery.retry import RetryPolicy
from bot.domain.clock import Clock
from bot.domain.events import WebhookDelivery
from bot.domain.ports import UnitOfWork, UnitOfWorkFactory
from bot.events.http import PostOutcome, WebhookSender
from bot.events.signing import signed_headers

log = logging.getLogger(__name__)

EVENT_HEADER = "X-Nudge-Event"
DELIVERY_HEADER = "X-Nudge-Delivery"
# Beyond the request's own timeout: a lease must outlive any request still in flight.
LEASE_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class WebhookTick:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def encode(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookDispatcher:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        secret: str,
        retry: RetryPolicy,
        *,
        timeout_seconds: float = 10.0,
        batch_size: int = 50,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._secret = secret
        self._retry = retry
        self._batch_size = batch_size
        self._lease = timedelta(seconds=timeout_seconds) + LEASE_MARGIN
        self._sender = WebhookSender(timeout_seconds)

    @property
    def batch_size(self) -> int:
        return self._batch_size

    async def tick(self) -> WebhookTick:
        """Deliver the due rows (at most a batch), concurrently; one outcome stored per row."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            claimed = await uow.webhooks.claim_due(now, now + self._lease, self._batch_size)
            await uow.commit()
        if not claimed:
            return WebhookTick()
        outcomes = await asyncio.gather(*(self._post(delivery) for delivery in claimed))
        async with self._uow_factory() as uow:
            counts = [await self._record(uow, d, o) for d, o in zip(claimed, outcomes, strict=True)]
            await uow.commit()
        return WebhookTick(
            claimed=len(claimed),
            delivered=counts.count("delivered"),
            retried=counts.count("retried"),
            failed=counts.count("failed"),
        )

    async def close(self) -> None:
        await self._sender.close()

    async def _post(self, delivery: WebhookDelivery) -> PostOutcome:
        body = encode(delivery)
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: str(delivery.id),
            **signed_headers(self._secret, body, self._clock.now()),
        }
        return await self._sender.post(delivery.endpoint, body, headers)

    async def _record(
        self, uow: UnitOfWork, delivery: WebhookDelivery, outcome: PostOutcome
    ) -> str:
        now = self._clock.now()
        if outcome.delivered:
            await uow.webhooks.delivered(delivery.id, now)
            return "delivered"
        if outcome.retry and not self._retry.gives_up_after(delivery.attempts):
            wait = self._retry.backoff(delivery.attempts)
            if outcome.retry_after is not None:
                wait = max(wait, timedelta(seconds=outcome.retry_after))
            await uow.webhooks.retry_at(delivery.id, now + wait, outcome.reason, now)
            return "retried"
        reason = outcome.reason
        if outcome.retry:
            reason = f"gave up after {delivery.attempts + 1} attempts: {reason}"
        log.warning("webhook %s to %s failed: %s", delivery.id, delivery.endpoint, reason)
        await uow.webhooks.failed(delivery.id, reason, now)
        return "failed"
