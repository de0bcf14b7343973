"""Once per cluster: the jobs only one process may run, and the lease that picks that process.

Every worker tries to take or renew one row of the `leases` table every `ttl / 3`; the one
holding it is the leader and runs the funnel scans, the hand-off timers and the agents' desk.
If the leader dies it stops renewing; once its lease has expired the next worker to try takes
it over, so the jobs pause for at most `ttl` and never run twice at once.

A table rather than PostgreSQL advisory locks: a session advisory lock lives as long as one
connection, which a pooled engine does not give (and a lost connection silently ends it); it
exists only on PostgreSQL, while the single process on SQLite runs the same code; and its
failover cannot be tested on the injected clock. The lease can: its expiry is a time, written
and compared with the clock of the workers. Their clocks must be in sync (NTP): the leader
stops leading a third of the ttl before its lease expires, which covers a skew up to that.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.ports import UnitOfWorkFactory
from bot.scheduling.pump import Work

log = logging.getLogger(__name__)

CLUSTER_LEASE = "cluster-jobs"
DEFAULT_TTL = timedelta(seconds=30)

Transition = Callable[[], Awaitable[None]]


class LeaderLease:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        holder: str,
        *,
        name: str = CLUSTER_LEASE,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self.holder = holder
        self.name = name
        self.ttl = ttl
        self._leading_until: datetime | None = None
        self._next_try: datetime | None = None
        self._leading = False
        self.on_gained: list[Transition] = []
        self.on_lost: list[Transition] = []

    @property
    def renew_every(self) -> timedelta:
        return self.ttl / 3

    @property
    def is_leader(self) -> bool:
        """True while this process holds the lease with a safety margin left."""
        until = self._leading_until
        return until is not None and self._clock.now() < until

    async def ensure(self) -> bool:
        """`is_leader`, renewing (or trying to take) the lease first when that is due: a job
        checks this, so leadership follows the clock even between the renewal timer's runs."""
        due = self._next_try
        if due is None or self._clock.now() >= due:
            return await self.renew()
        return self.is_leader

    async def renew(self) -> bool:
        """Take or renew the lease; runs the transitions when leadership changed hands."""
        now = self._clock.now()
        self._next_try = now + self.renew_every
        try:
            async with self._uow() as uow:
                took = await uow.leases.take(self.name, self.holder, now, now + self.ttl)
                await uow.commit()
        except Exception:  # the database is out of reach: lead only while the margin lasts
            log.exception("could not renew the %s lease", self.name)
            took = False
        if took:
            # Stop leading a third of the ttl before the lease expires for the others.
            self._leading_until = now + self.ttl - self.renew_every
        await self._settle()
        return self.is_leader

    async def release(self) -> None:
        """Give the lease up at a clean shutdown: another worker takes it at its next try."""
        if self._leading_until is None:
            return
        self._leading_until = None
        try:
            async with self._uow() as uow:
                await uow.leases.release(self.name, self.holder)
                await uow.commit()
        except Exception:  # it expires by itself
            log.exception("could not release the %s lease", self.name)
        await self._settle()

    async def _settle(self) -> None:
        """Run the transitions when leadership changed. If taking over failed (the agents'
        desk could not reach Telegram), it is tried again at the next renewal: transitions
        must be safe to run again after a failure."""
        leading = self.is_leader
        if leading == self._leading:
            return
        if leading:
            log.info("%s lease: %s holds it now", self.name, self.holder)
        else:
            log.info("%s lease: %s no longer holds it", self.name, self.holder)
        failed = False
        for transition in self.on_gained if leading else self.on_lost:
            try:
                await transition()
            except Exception:
                log.exception("%s: a leadership transition failed", self.name)
                failed = True
        # Stepping down always counts as done: what failed to stop is stopped at exit.
        self._leading = leading and not failed


def on_leader_only(leader: LeaderLease) -> Callable[[Work], Work]:
    """Decorates a pump's work: it runs on the leader; elsewhere there is nothing to do."""

    def decorate(work: Work) -> Work:
        async def gated() -> bool:
            if not await leader.ensure():
                return False
            return await work()

        return gated

    return decorate
