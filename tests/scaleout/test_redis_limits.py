"""The shared rate limiter: two workers (two limiters on one Redis) keep one count."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from bot.cluster.redis_limits import RedisLimiter
from bot.delivery.ratelimit import IN_FLIGHT_RECHECK, RateLimits
from bot.domain.clock import FakeClock


def _pair(
    redis: Redis, prefix: str, clock: FakeClock, limits: RateLimits, **options: object
) -> tuple[RedisLimiter, RedisLimiter]:
    def one(worker: str) -> RedisLimiter:
        return RedisLimiter(redis, limits, clock, prefix=prefix, worker_id=worker, **options)  # type: ignore[arg-type]

    return one("a"), one("b")


async def test_one_chat_gets_one_send_per_second_across_workers(
    redis: Redis, redis_prefix: str, clock: FakeClock
) -> None:
    a, b = _pair(redis, redis_prefix, clock, RateLimits(25, 1, 20))
    assert await a.begin("telegram:1", False) is None
    await a.finish("telegram:1", False)
    # The other worker sees the send of the first one: not before a second has passed.
    assert await b.begin("telegram:1", False) == clock.now() + timedelta(seconds=1)
    clock.advance(0.999)
    assert await b.begin("telegram:1", False) is not None
    clock.advance(0.001)
    assert await b.begin("telegram:1", False) is None


async def test_a_send_counts_while_in_flight_and_when_its_answer_comes(
    redis: Redis, redis_prefix: str, clock: FakeClock
) -> None:
    a, b = _pair(redis, redis_prefix, clock, RateLimits(25, 1, 20))
    assert await a.begin("telegram:1", False) is None
    clock.advance(5)  # a slow request: still in flight, the chat stays busy everywhere
    assert await b.begin("telegram:1", False) == clock.now() + IN_FLIGHT_RECHECK
    await a.finish("telegram:1", False)  # counted now, at its answer, not 5 s ago
    assert await b.begin("telegram:1", False) == clock.now() + timedelta(seconds=1)


async def test_the_global_limit_is_one_count_for_all_workers(
    redis: Redis, redis_prefix: str, clock: FakeClock
) -> None:
    a, b = _pair(redis, redis_prefix, clock, RateLimits(4, 1, 20))
    for chat in range(2):
        assert await a.begin(f"telegram:{chat}", False) is None
        await a.finish(f"telegram:{chat}", False)
        assert await b.begin(f"telegram:{chat + 10}", False) is None
        await b.finish(f"telegram:{chat + 10}", False)
    assert await a.free_global_slots() == 0 and await b.free_global_slots() == 0
    assert await b.begin("telegram:99", False) == clock.now() + timedelta(seconds=1)
    clock.advance(1)
    assert await b.free_global_slots() == 4


async def test_a_group_gets_twenty_a_minute_across_workers(
    redis: Redis, redis_prefix: str, clock: FakeClock
) -> None:
    a, b = _pair(redis, redis_prefix, clock, RateLimits(25, 1, 20))
    start = clock.now()
    for index in range(20):
        worker = (a, b)[index % 2]
        assert await worker.begin("telegram:-100", True) is None
        await worker.finish("telegram:-100", True)
        clock.advance(1)
    assert await a.begin("telegram:-100", True) == start + timedelta(minutes=1)


async def test_a_dead_workers_flight_stops_holding_its_slot(
    redis: Redis, redis_prefix: str, clock: FakeClock
) -> None:
    a, b = _pair(redis, redis_prefix, clock, RateLimits(1, 1, 20), max_flight=timedelta(seconds=30))
    assert await a.begin("telegram:1", False) is None  # then worker a dies: no finish
    assert await b.begin("telegram:2", False) is not None
    clock.advance(30)
    assert await b.begin("telegram:2", False) is None


async def test_retry_after_blocks_the_chat_for_every_worker(
    redis: Redis, redis_prefix: str, clock: FakeClock
) -> None:
    a, b = _pair(redis, redis_prefix, clock, RateLimits(25, 1, 20))
    until = clock.now() + timedelta(seconds=7)
    await a.block_chat("telegram:1", until)
    assert await b.begin("telegram:1", False) == until
    assert await b.begin("telegram:2", False) is None


async def test_limits_off_count_nothing(redis: Redis, redis_prefix: str, clock: FakeClock) -> None:
    a, _ = _pair(redis, redis_prefix, clock, RateLimits(1, 1, 1, enabled=False))
    for _ in range(5):
        assert await a.begin("telegram:1", False) is None
        await a.finish("telegram:1", False)
    assert await redis.keys(f"{redis_prefix}:*") == []
