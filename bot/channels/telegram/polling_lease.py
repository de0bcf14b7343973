"""Long polling with several web processes: the one holding the `telegram-poller` lease polls.

Telegram keeps one getUpdates per bot token: a second one ends the first with 409 Conflict, so
two processes polling would take turns failing and bounce updates between them. Every web
process in polling mode tries to take or renew this lease (a row of `leases`, the same
mechanism as the workers' `cluster-jobs` lease) every ttl / 3; the holder polls. A process
stopped cleanly gives the lease up and another one polls at its next try; one that dies stops
renewing, and another takes over once the lease has run out (`telegram.polling_lease_seconds`).
On SQLite the one process takes the lease at once.

The lease only keeps pollers from fighting; no update depends on it. Each batch is stored
together with the next offset, in one transaction, before that offset is asked for (which is
what confirms the batch to Telegram), and an update_id is stored once. So a poll cancelled
mid-batch leaves its updates with Telegram for the next poller, and two pollers overlapping
for a moment (a paused process waking up) lose nothing and store nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from bot.domain.clock import Clock
from bot.domain.ports import UnitOfWorkFactory
from bot.scheduling.leader import LeaderLease

log = logging.getLogger(__name__)

POLLER_LEASE = "telegram-poller"

Sleep = Callable[[float], Awaitable[None]]
Poll = Callable[[], Coroutine[Any, Any, None]]


class LeasedPolling:
    """Runs `poll` (the receiver's `poll_forever`) while this process holds the lease."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        holder: str,
        poll: Poll,
        *,
        ttl: timedelta,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.lease = LeaderLease(uow_factory, clock, holder, name=POLLER_LEASE, ttl=ttl)
        self.lease.on_gained.append(self._start_polling)
        self.lease.on_lost.append(self._stop_polling)
        self._uow = uow_factory
        self._clock = clock
        self._poll = poll
        self._sleep = sleep
        self._polling: asyncio.Task[None] | None = None
        self._renewing: asyncio.Task[None] | None = None

    @property
    def polling(self) -> bool:
        return self._polling is not None and not self._polling.done()

    async def start(self) -> None:
        """Try for the lease now (alone, this process polls at once), then keep trying."""
        if not await self.lease.renew():
            holder = await self._holder()
            log.info("Telegram: %s polls; %s takes over if it stops", holder, self.lease.holder)
        loop = asyncio.get_running_loop()
        self._renewing = loop.create_task(self._renew_forever(), name="telegram-poller-lease")

    async def stop(self) -> None:
        """Stop polling and give the lease up: another web process polls at its next try."""
        renewing, self._renewing = self._renewing, None
        if renewing is not None:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        await self.lease.release()  # stops polling if this process led
        await self._stop_polling()  # whatever the lease said, no poll outlives the stop

    async def _renew_forever(self) -> None:
        every = self.lease.renew_every.total_seconds()
        while True:
            await self._sleep(every)
            await self.lease.renew()

    async def _start_polling(self) -> None:
        if self.polling:
            return
        log.info("Telegram: %s holds the %s lease and polls", self.lease.holder, POLLER_LEASE)
        loop = asyncio.get_running_loop()
        self._polling = loop.create_task(self._poll(), name="telegram-poll")

    async def _stop_polling(self) -> None:
        task, self._polling = self._polling, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:  # the poll loop retries every error, so this is a bug: say so, go on
            log.exception("Telegram: the poll loop had failed")
        log.info("Telegram: %s stopped polling", self.lease.holder)

    async def _holder(self) -> str:
        try:
            async with self._uow() as uow:
                holder = await uow.leases.holder(POLLER_LEASE, self._clock.now())
        except Exception:  # only for the log line; renewing reports the database's trouble
            return "another web process"
        return holder or "another web process"
