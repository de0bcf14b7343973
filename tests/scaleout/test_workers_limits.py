"""Two worker processes share Telegram's rate limits through Redis, while the fake Bot API
answers 429 with retry_after, 5xx, or drops the connection after accepting a message."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bot.domain.model import OutboxStatus
from bot.storage.uow import Storage
from tests.scaleout.cluster import TOKEN, Cluster, FakeApi, seed_outbox, wait_until_settled
from tests.scaleout.conftest import REDIS_URL
from tests.scaleout.fake_api import FIRST_USER_ID

ROWS = 240
CHATS = 40
GLOBAL_PER_SECOND = 20  # below Telegram's 25 so that the test ends in ~12 s per 240 rows

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


async def test_two_workers_stay_within_the_limits_together_through_faults(
    pg_storage: Storage, cluster_factory: MakeCluster, redis: Redis
) -> None:
    bot_id = TOKEN.split(":", 1)[0]
    stale = await redis.keys(f"nudge:limits:telegram:{bot_id}:*")
    if stale:  # counts of an earlier run of this test
        await redis.delete(*stale)
    cluster, api = cluster_factory(
        CHATS,
        limits_enabled=True,
        global_per_second=GLOBAL_PER_SECOND,
        redis_url=REDIS_URL,
        backoff_initial_seconds=0.5,
    )
    await api.random_faults(retry_after=0.05, server_error=0.05, drop=0.01)
    await seed_outbox(pg_storage, ROWS, CHATS)
    cluster.start_worker()
    cluster.start_worker()

    settled = await wait_until_settled(pg_storage, within=240, cluster=cluster)

    # Everything ends: sent, or unknown where the connection dropped after the message was
    # accepted (never resent); nothing failed for good, nothing left pending.
    dropped = settled[OutboxStatus.UNKNOWN]
    assert settled[OutboxStatus.SENT] + dropped == ROWS, settled
    delivered = await api.texts()
    assert [text for text, times in delivered.items() if times > 1] == []
    assert len(delivered) == ROWS  # a dropped send was accepted: it reached the chat once
    # The limits held on the fake server's clock for both workers together.
    assert await api.max_in_window(1.0) <= GLOBAL_PER_SECOND
    for chat in range(CHATS):
        assert await api.max_in_window(1.0, FIRST_USER_ID + chat) <= 1
