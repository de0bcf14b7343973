"""Telegram's send limits, decided on an injected clock.

The outbox dispatcher asks `RateLimiter.reserve(chat_key, is_group)` before each send:
`None` means "send now" (and the send is counted), a datetime means "not before then"
(and nothing is counted). Pure: no I/O, no sleeping; time comes only from the clock.

Precise guarantees, over the clock times at which `reserve` returned `None` ("grants"):

* per chat (private chats *and* groups): consecutive grants for one chat are at least
  `1 / per_chat_per_second` seconds apart, i.e. any half-open window of that length
  holds at most one of them. Strict spacing, no burst.
* per group (`is_group=True`): any half-open window `[t, t + 60 s)` holds at most
  `floor(per_group_per_minute)` grants for that group.
* global: any half-open window `[t, t + 1 s)` holds at most `floor(global_per_second)`
  grants over all chats (so bursts up to that many in one instant are allowed).

A rate below 1 per window becomes "one grant per `window / rate`" (e.g. a global rate of
0.5/s means one grant per 2 s). Intervals are rounded *up* to whole microseconds, so
rounding never loosens a limit. `block_chat`/`block_all` (Telegram's 429 `retry_after`)
refuse everything for the chat / for all chats before the given instant.

A refusal returns the *earliest* instant at which the same call would be granted if
nothing else happens in between (another chat's grant may still take the global slot).

The clock is assumed not to go backwards; if it does, the limiter keeps using the
latest time it has seen (never over the limits, but it waits until the clock catches
up). Give it a monotonic-ish clock. Memory: state for a chat is dropped as soon as its
windows are over, so it is bounded by the grants of the longest window (normally the
last minute) plus the blocks still in force, not by the number of chats ever seen. Each
call is O(1) amortised (a few microseconds). Not thread-safe: use it from one event loop.

There is deliberately no `release()`: a send whose fate is unknown (network error) may
have reached Telegram and must stay counted, and an unused reservation only wastes one
slot, which is safe.

Limits are about when messages *arrive* at Telegram, which is some time after the request
starts. `begin` / `finish` account for that: a send counts as "now" for as long as it is in
flight and, once answered, at the moment its answer came back (never earlier than its arrival).
So a window over arrival times can never hold more than the limit, however the network delays
requests. The dispatcher uses this pair; `reserve` counts a send at the moment it is granted.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from bot.domain.clock import Clock

_SECOND_US = 1_000_000
_MINUTE_US = 60 * _SECOND_US
_MIN_BLOCK_SWEEP = 64
# How soon to ask again when only sends still in flight stand in the way.
IN_FLIGHT_RECHECK = timedelta(milliseconds=50)


@dataclass(frozen=True)
class RateLimits:
    """Send rates; all must be finite and positive. `enabled=False` turns limiting off."""

    global_per_second: float
    per_chat_per_second: float
    per_group_per_minute: float
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("global_per_second", "per_chat_per_second", "per_group_per_minute"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"RateLimits.{name} must be a finite number > 0, got {value!r}")

    @classmethod
    def telegram(cls, *, paid_broadcast: bool = False, enabled: bool = True) -> RateLimits:
        """Telegram's documented limits; paid broadcast raises the global rate to 1000/s."""
        return cls(
            global_per_second=1000.0 if paid_broadcast else 25.0,
            per_chat_per_second=1.0,
            per_group_per_minute=20.0,
            enabled=enabled,
        )


def _window(rate: float, window_us: int) -> tuple[int, timedelta]:
    """(capacity, window) for "at most `rate` sends per `window_us`"."""
    if rate >= 1:
        return math.floor(rate), timedelta(microseconds=window_us)
    return 1, _interval(rate, window_us)


def _interval(rate: float, window_us: int) -> timedelta:
    """window / rate, rounded up to a whole microsecond (exact arithmetic)."""
    return timedelta(microseconds=math.ceil(Fraction(window_us) / Fraction(rate)))


class RateLimiter:
    """Decides, on an injected clock, whether a message may be sent now, and if not, when."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self._enabled = limits.enabled
        self._clock = clock
        self._chat_gap = _interval(limits.per_chat_per_second, _SECOND_US)
        self._global_cap, self._global_window = _window(limits.global_per_second, _SECOND_US)
        self._group_cap, self._group_window = _window(limits.per_group_per_minute, _MINUTE_US)
        # A group's state is useless once both its spacing and its window have passed.
        self._group_span = max(self._chat_gap, self._group_window)
        self._global_grants: deque[datetime] = deque()
        # Insertion order == order of the last grant == order of expiry: evict from the front.
        self._private: OrderedDict[str, datetime] = OrderedDict()
        self._groups: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._chat_blocks: dict[str, datetime] = {}
        self._block_sweep_at = _MIN_BLOCK_SWEEP
        self._blocks_over_at: datetime | None = None  # the latest `until` among chat blocks
        self._global_block: datetime | None = None
        self._latest: datetime | None = None
        self._in_flight = 0
        self._flying_chats: dict[str, int] = {}

    @property
    def tracked_chats(self) -> int:
        """How many per-chat records are held (for tests and metrics)."""
        return len(self._private) + len(self._groups) + len(self._chat_blocks)

    def reserve(self, chat_key: str, is_group: bool) -> datetime | None:
        """`None`: send now (counted). Otherwise the earliest time to ask again (not counted)."""
        if not self._enabled:
            return None
        now = self._now()
        ready = self._ready_at(chat_key, is_group, now)
        if ready is not None and ready > now:
            return ready
        self._grant(chat_key, is_group, now)
        return None

    def begin(self, chat_key: str, is_group: bool) -> datetime | None:
        """Like `reserve`, for a send that counts as in flight until `finish` (see module doc).

        While in-flight sends fill the global window, or this chat has one in flight, the
        answer is a short re-check delay: when it frees up depends on the network.
        """
        if not self._enabled:
            return None
        now = self._now()
        ready = self._ready_at(chat_key, is_group, now)
        busy = self._flying_chats.get(chat_key, 0) > 0
        if not busy and len(self._global_grants) + self._in_flight >= self._global_cap:
            busy = len(self._global_grants) < self._global_cap  # full only because of flights
        if busy:
            ready = _later(ready, now + IN_FLIGHT_RECHECK)
        if ready is not None and ready > now:
            return ready
        self._in_flight += 1
        self._flying_chats[chat_key] = self._flying_chats.get(chat_key, 0) + 1
        return None

    def finish(self, chat_key: str, is_group: bool) -> None:
        """The send begun with `begin` got its answer (or failed): count it at this moment."""
        if not self._enabled:
            return
        now = self._now()
        self._in_flight = max(self._in_flight - 1, 0)
        left = self._flying_chats.get(chat_key, 0) - 1
        if left > 0:
            self._flying_chats[chat_key] = left
        else:
            self._flying_chats.pop(chat_key, None)
        self._evict(now)
        self._grant(chat_key, is_group, now)

    def free_global_slots(self) -> int:
        """How many sends the global limit would allow right now (for sizing a batch)."""
        if not self._enabled:
            return 1 << 30
        now = self._now()
        glob = self._global_grants
        while glob and glob[0] + self._global_window <= now:
            glob.popleft()
        return max(self._global_cap - len(glob) - self._in_flight, 0)

    def block_chat(self, chat_key: str, until: datetime) -> None:
        """Refuse this chat until `until` (Telegram's 429 `retry_after` for a chat)."""
        current = self._chat_blocks.get(chat_key)
        if current is None or until > current:
            self._chat_blocks[chat_key] = until
        self._blocks_over_at = _later(self._blocks_over_at, until)
        if len(self._chat_blocks) > self._block_sweep_at:
            now = self._now()
            self._chat_blocks = {k: t for k, t in self._chat_blocks.items() if t > now}
            self._block_sweep_at = max(_MIN_BLOCK_SWEEP, 2 * len(self._chat_blocks))

    def block_all(self, until: datetime) -> None:
        """Refuse every chat until `until` (a global flood-wait)."""
        if self._global_block is None or until > self._global_block:
            self._global_block = until

    # -- internals ---------------------------------------------------------------------

    def _ready_at(self, chat_key: str, is_group: bool, now: datetime) -> datetime | None:
        """The earliest time the counted sends allow this chat (in-flight ones aside)."""
        self._evict(now)
        ready = self._blocked_until(chat_key, now)
        glob = self._global_grants
        while glob and glob[0] + self._global_window <= now:
            glob.popleft()
        if len(glob) >= self._global_cap:
            ready = _later(ready, glob[0] + self._global_window)
        if is_group:
            return _later(ready, self._group_ready(chat_key, now))
        last = self._private.get(chat_key)
        if last is not None:
            ready = _later(ready, last + self._chat_gap)
        return ready

    def _now(self) -> datetime:
        now = self._clock.now()
        latest = self._latest
        if latest is not None and now < latest:
            return latest
        self._latest = now
        return now

    def _blocked_until(self, chat_key: str, now: datetime) -> datetime | None:
        ready = self._global_block
        if ready is not None and ready <= now:
            ready = self._global_block = None
        if self._chat_blocks:
            until = self._chat_blocks.get(chat_key)
            if until is not None:
                if until <= now:
                    del self._chat_blocks[chat_key]
                else:
                    ready = _later(ready, until)
        return ready

    def _group_ready(self, chat_key: str, now: datetime) -> datetime | None:
        grants = self._groups.get(chat_key)
        if not grants:
            return None
        window = self._group_window
        while grants and grants[0] + window <= now:
            grants.popleft()
        if not grants:
            return None
        ready = grants[-1] + self._chat_gap
        if len(grants) >= self._group_cap:
            ready = max(ready, grants[0] + window)
        return ready

    def _grant(self, chat_key: str, is_group: bool, now: datetime) -> None:
        self._global_grants.append(now)
        if is_group:
            grants = self._groups.get(chat_key)
            if grants is None:
                self._groups[chat_key] = deque((now,))
            else:
                grants.append(now)
                self._groups.move_to_end(chat_key)
        else:
            self._private[chat_key] = now
            self._private.move_to_end(chat_key)

    def _evict(self, now: datetime) -> None:
        """Drop chats whose windows are over; amortised O(1) (each record leaves once)."""
        private = self._private
        if private:
            cutoff = now - self._chat_gap
            while private and private[next(iter(private))] <= cutoff:
                private.popitem(last=False)
        groups = self._groups
        if groups:
            cutoff = now - self._group_span
            while groups:
                grants = groups[next(iter(groups))]
                if grants and grants[-1] > cutoff:
                    break
                groups.popitem(last=False)
        over_at = self._blocks_over_at
        if over_at is not None and over_at <= now:
            self._chat_blocks.clear()
            self._blocks_over_at = None
            self._block_sweep_at = _MIN_BLOCK_SWEEP


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a >= b else b
