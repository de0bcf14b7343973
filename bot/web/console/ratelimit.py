"""A small in-memory limit on failed console logins, per client address and per agent key.

One process only: good enough to slow a guesser down a lot (each miss also costs the guesser a
scrypt check); several web processes each count on their own.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from bot.domain.clock import Clock

WINDOW = timedelta(minutes=10)
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_KEY = 8
MAX_TRACKED = 10_000  # beyond this the oldest entries are forgotten: memory stays bounded


class LoginLimiter:
    def __init__(
        self,
        clock: Clock,
        window: timedelta = WINDOW,
        per_address: int = MAX_FAILURES_PER_ADDRESS,
        per_key: int = MAX_FAILURES_PER_KEY,
    ) -> None:
        self._clock = clock
        self._window = window
        self._limits = {"ip": per_address, "key": per_key}
        self._failures: dict[tuple[str, str], deque[datetime]] = {}

    def blocked(self, address: str, key: str) -> bool:
        """True when either the address or the key had too many recent failures."""
        now = self._clock.now()
        return any(
            len(self._recent((kind, value), now)) >= self._limits[kind]
            for kind, value in (("ip", address), ("key", key.lower()))
        )

    def failed(self, address: str, key: str) -> None:
        now = self._clock.now()
        for entry in (("ip", address), ("key", key.lower())):
            self._recent(entry, now).append(now)
        while len(self._failures) > MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        self._failures.pop(("key", key.lower()), None)

    def _recent(self, entry: tuple[str, str], now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(entry, deque())
        while times and now - times[0] > self._window:
            times.popleft()
        return times
