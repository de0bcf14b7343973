"""How workers claim outbox rows: a lease per row, one worker per chat at a time.

A claim switches due PENDING rows to SENDING and stamps them with the worker's id
(`claimed_by`) and a lease end (`lease_until`). The worker commits that before it sends, so a
row is never sent by two workers. If the worker dies mid-send, its rows stay SENDING until the
lease ends; then any worker settles them as outcome unknown (never resends them: the request may
have reached the channel). A worker that is alive records each outcome well before its lease
ends.

One chat, one worker: parts of a long answer and consecutive replies must arrive in order, so a
claim skips every chat that has a SENDING row of another worker, and on PostgreSQL takes a
transaction advisory lock per chat (`pg_try_advisory_xact_lock`), so two claims running at the
same moment cannot both take rows of one chat: the second skips that chat. The candidate rows
are read `FOR UPDATE SKIP LOCKED` in (priority, id) order, bounded by the limit, so the lock
function runs on at most `limit` rows. SQLite has one writer at a time and needs neither lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, bindparam, exists, func, literal, select
from sqlalchemy.sql import Executable

from bot.domain.model import OutboxStatus
from bot.storage.repositories._base import binds
from bot.storage.tables import outbox

# The first key of PostgreSQL's two-key advisory locks: a namespace, so that a chat's hash can
# never meet another feature's lock. (Single-key locks, as the coupons use, are another space.)
OUTBOX_CHAT_LOCKS = 0x4E0D_0001

STALE_SENDING_REASON = "process stopped during send; outcome unknown"

_SENDING = OutboxStatus.SENDING.value


def _candidates(postgresql: bool) -> Any:
    query = (
        select(outbox.c.id, outbox.c.channel, outbox.c.address)
        .where(
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.not_before <= bindparam("now"),
        )
        .order_by(outbox.c.priority, outbox.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if postgresql:
        query = query.with_for_update(skip_locked=True)
    return query.subquery("candidate")


def _claimable(postgresql: bool) -> Select[Any]:
    candidate = _candidates(postgresql)
    sending = outbox.alias("sending")
    busy_elsewhere = exists().where(
        sending.c.channel == candidate.c.channel,
        sending.c.address == candidate.c.address,
        sending.c.status == _SENDING,
        sending.c.claimed_by.is_distinct_from(bindparam("worker")),
    )
    query = select(candidate.c.id).where(~busy_elsewhere)
    if postgresql:
        chat = candidate.c.channel + literal(":") + candidate.c.address
        query = query.where(
            func.pg_try_advisory_xact_lock(literal(OUTBOX_CHAT_LOCKS), func.hashtext(chat))
        )
    return query


def build_claim(postgresql: bool) -> Executable:
    """UPDATE the claimable rows to SENDING with this worker's lease; RETURNING them.

    The claimable rows are a MATERIALIZED CTE, read once. As a plain sub-select PostgreSQL may
    rescan it for each row it updates, and a rescan of `LIMIT ... FOR UPDATE SKIP LOCKED` skips
    the rows this very statement has just updated and takes the next ones: the limit then
    holds per rescan, not per claim (seen: a claim of 2 took 4 rows).
    """
    claimable = _claimable(postgresql).cte("claimable").prefix_with("MATERIALIZED")
    return (
        outbox.update()
        .where(outbox.c.id.in_(select(claimable.c.id)))
        # The row may have changed between the candidate read and here (PostgreSQL re-checks
        # this on the newest version of the row): only a row still pending is claimed.
        .where(outbox.c.status == OutboxStatus.PENDING.value)
        .values(binds(outbox, "updated_at", "claimed_by", "lease_until"))
        .values(status=_SENDING)
        .returning(outbox)
    )


CLAIM = {"postgresql": build_claim(True), "sqlite": build_claim(False)}

# Rows still SENDING when their lease ran out: their worker died mid-send. A row without a
# lease (claimed before leases existed, or by a caller that gave none) counts as expired.
SETTLE_EXPIRED = (
    outbox.update()
    .where(
        outbox.c.status == _SENDING,
        (outbox.c.lease_until.is_(None)) | (outbox.c.lease_until <= bindparam("expired_by")),
    )
    .values(binds(outbox, "updated_at"))
    .values(status=OutboxStatus.UNKNOWN.value, reason=STALE_SENDING_REASON)
)


def settle_params(at: Any) -> dict[str, Any]:
    return {"expired_by": at, "updated_at": at}
