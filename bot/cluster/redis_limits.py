"""Telegram's send limits shared by every worker of a cluster, kept in Redis.

The same rules as `bot.delivery.ratelimit.RateLimiter.begin/finish` (see there), over one count
for all workers: per chat one send per `1 / per_chat_per_second` seconds, per group
`per_group_per_minute` in any 60 s, globally `global_per_second` in any second. A send counts as
"now" while it is in flight and at the moment its answer came back once answered, so the limits
hold for arrival times at Telegram however long requests take.

Why Redis and not PostgreSQL: the limiter is asked twice per send (begin, finish), from every
worker, on one global count. In PostgreSQL that is a row every send must lock, a transaction
and its WAL per send, and the hottest lock of the cluster right next to the outbox; a Lua script
in Redis does each check-and-count atomically in microseconds, and key expiry forgets idle
chats and the in-flight sends of a dead worker by itself. Redis holds nothing that must survive:
after a Redis restart the counts start empty, which at worst lets through one window's worth.

Time comes from the injected clock of the caller (microseconds since the epoch), not from
Redis: workers' clocks must be in sync (NTP), and a skew of d loosens a window by at most d.
Each in-flight entry has its own deadline (`max_flight`): a worker that dies mid-send stops
holding its slot after it, not forever.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.delivery.ratelimit import IN_FLIGHT_RECHECK, RateLimits
from bot.domain.clock import Clock

_US = 1_000_000

# KEYS: 1 global grants (zset time), 2 global flights (zset deadline), 3 global block,
#       4 chat grants (zset time), 5 chat flights (zset deadline), 6 chat block
# ARGV: 1 now, 2 token, 3 is_group, 4 global cap, 5 global window, 6 chat gap,
#       7 group cap, 8 group window, 9 recheck, 10 flight deadline, 11 key ttl ms
_BEGIN = """
local now = tonumber(ARGV[1])
local gcap, gwin = tonumber(ARGV[4]), tonumber(ARGV[5])
local gap, grcap, grwin = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local group = ARGV[3] == '1'
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - gwin)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local span = gap
if group and grwin > gap then span = grwin end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - span)
local ready = 0
for _, key in ipairs({KEYS[3], KEYS[6]}) do
  local until_ = tonumber(redis.call('GET', key) or '0')
  if until_ > ready then ready = until_ end
end
local grants = redis.call('ZCARD', KEYS[1])
local flights = redis.call('ZCARD', KEYS[2])
if grants >= gcap then
  local first = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  if first + gwin > ready then ready = first + gwin end
end
local chat = redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
if #chat > 0 then
  local last = tonumber(chat[#chat])
  if last + gap > ready then ready = last + gap end
  if group and #chat / 2 >= grcap then
    local first = tonumber(chat[2])
    if first + grwin > ready then ready = first + grwin end
  end
end
local busy = redis.call('ZCARD', KEYS[5]) > 0
if not busy and grants + flights >= gcap then busy = grants < gcap end
if busy and now + tonumber(ARGV[9]) > ready then ready = now + tonumber(ARGV[9]) end
if ready > now then return ready end
local deadline = tonumber(ARGV[10])
redis.call('ZADD', KEYS[2], deadline, ARGV[2])
redis.call('ZADD', KEYS[5], deadline, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[11])
redis.call('PEXPIRE', KEYS[5], ARGV[11])
return -1
"""

# KEYS: 1 global grants, 2 global flights, 4 chat grants, 5 chat flights (as above, 4 keys)
# ARGV: 1 now, 2 token, 3 key ttl ms
_FINISH = """
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 0
"""

# KEYS: 1 global grants, 2 global flights. ARGV: 1 now, 2 global window, 3 global cap
_FREE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local used = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
return math.max(tonumber(ARGV[3]) - used, 0)
"""

# KEYS: 1 block key. ARGV: 1 until, 2 ttl ms
_BLOCK = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
"""


def _window_us(rate: float, window_us: int) -> tuple[int, int]:
    """(capacity, window in µs) for "at most `rate` sends per window", as `RateLimiter` does."""
    if rate >= 1:
        return math.floor(rate), window_us
    return 1, math.ceil(window_us / rate)


def _micros(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


class RedisLimiter:
    """`bot.delivery.limits.SendLimiter` on Redis: one count for every worker of a bot."""

    def __init__(
        self,
        redis: Redis,
        limits: RateLimits,
        clock: Clock,
        *,
        prefix: str,
        worker_id: str,
        max_flight: timedelta = timedelta(seconds=90),
    ) -> None:
        self._redis = redis
        self._enabled = limits.enabled
        self._clock = clock
        self._prefix = prefix
        self._worker = worker_id
        self._gap = math.ceil(_US / limits.per_chat_per_second)
        self._global_cap, self._global_window = _window_us(limits.global_per_second, _US)
        self._group_cap, self._group_window = _window_us(limits.per_group_per_minute, 60 * _US)
        self._max_flight = _micros_of(max_flight)
        longest = max(self._gap, self._global_window, self._group_window, self._max_flight)
        self._ttl_ms = longest // 1000 + 60_000  # state outlives every window it serves
        self._begin = redis.register_script(_BEGIN)
        self._finish = redis.register_script(_FINISH)
        self._free = redis.register_script(_FREE)
        self._block = redis.register_script(_BLOCK)
        self._tokens: defaultdict[str, deque[str]] = defaultdict(deque)
        self._serial = itertools.count(1)

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _keys(self, chat_key: str) -> list[str]:
        p = self._prefix
        return [f"{p}:g", f"{p}:gf", f"{p}:gb", f"{p}:c:{chat_key}", f"{p}:cf:{chat_key}"]

    def _block_key(self, chat_key: str) -> str:
        return f"{self._prefix}:b:{chat_key}"

    async def begin(self, chat_key: str, is_group: bool) -> datetime | None:
        if not self._enabled:
            return None
        now = _micros(self._clock.now())
        token = f"{self._worker}:{next(self._serial)}"
        answer: Any = await self._begin(
            keys=[*self._keys(chat_key), self._block_key(chat_key)],
            args=[
                now,
                token,
                "1" if is_group else "0",
                self._global_cap,
                self._global_window,
                self._gap,
                self._group_cap,
                self._group_window,
                _micros_of(IN_FLIGHT_RECHECK),
                now + self._max_flight,
                self._ttl_ms,
            ],
        )
        if int(answer) >= 0:
            return _moment(int(answer))
        self._tokens[chat_key].append(token)
        return None

    async def finish(self, chat_key: str, is_group: bool) -> None:
        if not self._enabled:
            return
        tokens = self._tokens.get(chat_key)
        if not tokens:
            return  # never begun here (or already finished): nothing in flight to count
        token = tokens.popleft()
        if not tokens:
            del self._tokens[chat_key]
        glob, flights, _block, chat, chat_flights = self._keys(chat_key)
        now = _micros(self._clock.now())
        keys = [glob, flights, chat, chat_flights]
        await self._finish(keys=keys, args=[now, token, self._ttl_ms])

    async def free_global_slots(self) -> int:
        if not self._enabled:
            return 1 << 30
        glob, flights, *_ = self._keys("")
        now = _micros(self._clock.now())
        args = [now, self._global_window, self._global_cap]
        return int(await self._free(keys=[glob, flights], args=args))

    async def block_chat(self, chat_key: str, until: datetime) -> None:
        await self._set_block(self._block_key(chat_key), until)

    async def block_all(self, until: datetime) -> None:
        await self._set_block(f"{self._prefix}:gb", until)

    async def _set_block(self, key: str, until: datetime) -> None:
        left_ms = (until - self._clock.now()) // timedelta(milliseconds=1)
        if left_ms <= 0:
            return
        await self._block(keys=[key], args=[_micros(until), left_ms + self._ttl_ms])


def _micros_of(span: timedelta) -> int:
    return span // timedelta(microseconds=1)
