"""The database goes away between a send and storing its outcome: the outcome is stored when
it comes back; a message is never recorded sent without a success, nor sent twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.delivery.dispatcher import SETTLE_EVERY, Dispatcher
from bot.delivery.ratelimit import RateLimiter, RateLimits
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import FakeClock
from bot.domain.model import Channel, OutboundMessage, OutboxStatus
from bot.domain.ports import SendOk, SendResult
from bot.storage.uow import Storage
from tests.delivery.test_dispatcher import enqueue, new_contact, status_of


class Outage:
    """Units of work whose commits fail `failures` times once armed (the database is down)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self.failures = 0
        self.refused = 0

    def __call__(self) -> Any:
        outage = self
        uow = self._storage.uow()
        commit = uow.commit

        async def failing_commit() -> None:
            if outage.failures:
                outage.failures -= 1
                outage.refused += 1
                raise ConnectionError("connection refused: the database is down")
            await commit()

        uow.commit = failing_commit  # type: ignore[method-assign]
        return uow


class DownAfterSending:
    channel = Channel.TELEGRAM
    max_text_length = 4096

    def __init__(self, outage: Outage, failures: int) -> None:
        self._outage = outage
        self._failures = failures
        self.sent: list[str] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message.text)
        self._outage.failures = self._failures  # the database fails right after the send
        return SendOk(f"m{len(self.sent)}")


LEASE = timedelta(seconds=1)


def _dispatcher(outage: Outage, gateway: DownAfterSending, clock: FakeClock) -> Dispatcher:
    return Dispatcher(
        outage,
        {Channel.TELEGRAM: gateway},
        {Channel.TELEGRAM: RateLimiter(RateLimits(25, 1, 20, enabled=False), clock)},
        clock,
        RetryPolicy(),
        lease=LEASE,
        record_retry_pause=0,  # no real waiting in tests: 500 tries within the lease
    )


async def test_the_outcome_is_stored_once_the_database_is_back(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "hello", key="k")
    outage = Outage(storage)
    gateway = DownAfterSending(outage, failures=3)

    await _dispatcher(outage, gateway, clock).tick()

    assert outage.refused == 3
    row = await status_of(storage, "k")
    assert (row.status, row.channel_message_id) == (OutboxStatus.SENT, "m1")
    assert gateway.sent == ["hello"]


async def test_an_outcome_never_stored_leaves_the_row_to_end_unknown(
    storage: Storage, clock: FakeClock
) -> None:
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "hello", key="k")
    outage = Outage(storage)
    gateway = DownAfterSending(outage, failures=10**9)
    dispatcher = _dispatcher(outage, gateway, clock)

    with pytest.raises(ConnectionError):
        await dispatcher.tick()  # gives up storing, well within its lease
    outage.failures = 0  # the database is back; the lease is over by the next settling
    clock.advance(SETTLE_EVERY)
    await dispatcher.tick()

    row = await status_of(storage, "k")
    assert row.status is OutboxStatus.UNKNOWN  # sent, but nobody could record it: not "sent"
    assert gateway.sent == ["hello"]  # and not sent again
