"""A loop that does a unit of work when woken, back to back while there is more to do.

Producers wake the pump right after they commit (an inbound update, an outbox row), so a reply
goes out within milliseconds; the scheduler also wakes it periodically, for rows that become
due later (a retry, a delayed funnel step).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[bool]]
"""Does one batch; returns True when there may be more to do right away."""


class Pump:
    def __init__(self, name: str, work: Work, *, error_pause: float = 1.0) -> None:
        self.name = name
        self._work = work
        self._error_pause = error_pause
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._stopping = False
        self._changed = asyncio.Condition()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)
            self._wake.set()

    async def stop(self, *, grace: float = 0.0) -> None:
        """Cancel the loop. With `grace` (seconds), first let the batch in hand finish, up to
        that long: a dispatcher cancelled mid-send leaves rows that end as outcome unknown."""
        if self._task is None:
            return
        task, self._task = self._task, None
        if grace > 0 and self._busy:
            self._stopping = True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace), self._changed:
                    await self._changed.wait_for(lambda: not self._busy)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def drain(self) -> None:
        """Wake the pump and wait until it has nothing more to do (for tests and shutdown)."""
        if self._task is None:
            raise RuntimeError(f"pump {self.name} is not running")
        self.wake()
        async with self._changed:
            await self._changed.wait_for(lambda: not self._wake.is_set() and not self._busy)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._busy = True
            self._wake.clear()
            try:
                while True:
                    more = await self._work()
                    if not more or self._stopping:
                        break
                    # Let other tasks (the web server) breathe. One sleep(0) is not enough: a
                    # task woken by a timer or a socket needs a few loop iterations to run, and
                    # with one yield the next batch went first (measured: the stall doubled).
                    for _ in range(3):
                        await asyncio.sleep(0)
            except Exception:
                log.exception("%s failed; retrying in %.1fs", self.name, self._error_pause)
                await asyncio.sleep(self._error_pause)
                self._wake.set()
            finally:
                self._busy = False
                async with self._changed:
                    self._changed.notify_all()
