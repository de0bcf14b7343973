"""`/stop` arriving during a broadcast: at most one message reaches that contact after it.

Real processes: a web process long-polls the fake Bot API (in a process of its own) and stores
the /stop; two worker processes dispatch the broadcast and handle the /stop, all on the local
PostgreSQL.

How it maps to the issue's 100,000 messages: the size of a broadcast only sets how long it
lasts. What the promise depends on is the moment the opt-out is committed while rows of that
contact are pending, claimed or in flight on several workers. Here 2,000 rows go out with the
rate limit off and slowed answers (so the broadcast is still running when the /stop lands),
and the target contact owns every 10th row, so several of its rows are in every claimed batch:
a harder case than one message per contact, which is what a real broadcast sends.

"After" is precise: a message counts when the fake Bot API accepted it (its `at`, the
system-wide monotonic clock, turned to wall time in this process) later than the /stop's
`processed_at`, which the worker stamps inside the very transaction that stores the opt-out,
just before committing it. Any message accepted after that commit is counted, and so are the
few accepted between the stamp and the commit: the count can only be too high, never too low.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from bot.domain.model import Channel, OutboundDraft, OutboundKind, OutboxStatus
from bot.storage.tables import inbound_updates, outbox
from bot.storage.uow import Storage
from tests.scaleout.cluster import (
    Cluster,
    FakeApi,
    free_port,
    user_says,
    wait_for,
    wait_until_settled,
)
from tests.scaleout.fake_api import FIRST_USER_ID

ROWS = 2000
CHATS = 200
TARGET_EVERY = 10  # the target contact (chat 0) owns rows 0, 10, 20, ...
TARGET_CHAT = FIRST_USER_ID

MakeCluster = Callable[..., tuple[Cluster, FakeApi]]


async def _seed_broadcast(storage: Storage) -> None:
    """ROWS due broadcast rows, text `promo N`; the target's rows spread evenly through them,
    the others shared by the other contacts. Each contact has its Telegram identity, so the
    /stop of user TARGET_CHAT reaches the contact the rows are for."""
    now = storage.clock.now()
    async with storage.uow() as uow:
        contacts = []
        for chat in range(CHATS):
            contact = await uow.contacts.create(f"User{chat}", "en")
            user = str(FIRST_USER_ID + chat)
            await uow.identities.add(contact.id, Channel.TELEGRAM, user, user, None)
            contacts.append(contact.id)
        for n in range(ROWS):
            chat = 0 if n % TARGET_EVERY == 0 else 1 + n % (CHATS - 1)
            draft = OutboundDraft(
                key=f"promo-{n}",
                contact_id=contacts[chat],
                channel=Channel.TELEGRAM,
                address=str(FIRST_USER_ID + chat),
                text=f"promo {n}",
                kind=OutboundKind.BROADCAST,
            )
            await uow.outbox.add(draft, now)
        await uow.commit()


async def _stop_processed_at(storage: Storage, within: float) -> datetime:
    """When the worker stored the /stop's effect (polled: the worker is another process)."""
    statement = select(inbound_updates.c.payload, inbound_updates.c.processed_at).where(
        inbound_updates.c.status == "processed"
    )
    deadline = time.monotonic() + within
    while True:
        async with storage.engine.connect() as conn:
            for payload, processed_at in await conn.execute(statement):
                if payload.get("message", {}).get("text") == "/stop":
                    return processed_at  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"the /stop was not handled within {within}s"
        await asyncio.sleep(0.05)


async def _target_statuses(storage: Storage) -> dict[str, str]:
    statement = select(outbox.c.text, outbox.c.status).where(
        outbox.c.address == str(TARGET_CHAT), outbox.c.kind == OutboundKind.BROADCAST.value
    )
    async with storage.engine.connect() as conn:
        return {text: status for text, status in await conn.execute(statement)}


async def test_at_most_one_broadcast_message_reaches_a_contact_after_their_stop(
    pg_storage: Storage, cluster_factory: MakeCluster
) -> None:
    cluster, api = cluster_factory(CHATS)
    await api.slow_sends(0.02)
    await _seed_broadcast(pg_storage)
    cluster.start_worker("web", NUDGE_WEB__PORT=str(free_port()))
    cluster.start_worker()
    cluster.start_worker()
    await wait_for(pg_storage, OutboxStatus.SENT, at_least=ROWS // 10, within=90)

    await user_says(api, TARGET_CHAT, "/stop")
    stopped_at = (await _stop_processed_at(pg_storage, within=60)).timestamp()
    await wait_until_settled(pg_storage, within=120, cluster=cluster)

    wall_minus_monotonic = time.time() - time.monotonic()  # same machine, same clocks
    delivered = (await api._get("messages", chat_id=TARGET_CHAT))["messages"]
    promos = [m for m in delivered if m["text"].startswith("promo ")]
    after = [m["text"] for m in promos if m["at"] + wall_minus_monotonic > stopped_at]
    statuses = await _target_statuses(pg_storage)
    suppressed = [text for text, status in statuses.items() if status == "suppressed"]
    # The /stop landed mid-broadcast: some of the target's rows went before it, some were held.
    assert promos and suppressed, (len(promos), statuses)
    assert len(after) <= 1, f"{len(after)} broadcast messages reached the contact after /stop"
    assert len(promos) + len(suppressed) == ROWS // TARGET_EVERY  # each row: sent or held
    assert all(process.poll() is None for process in cluster.workers), cluster.logs()
