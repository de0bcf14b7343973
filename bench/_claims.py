"""How the workers' outbox claims went, read back from the outbox rows after a run.

Every row a claim takes gets the worker's id (`claimed_by`) and one lease end (`lease_until`,
the claim's clock + the lease), kept once the row is sent; `sent_at` is when the outcomes of its
batch were stored. So one claim is one (claimed_by, lease_until) group, and a worker's cycle
splits into: claim -> outcomes stored (screening, sending the batch, storing the outcomes), and
stored -> the same worker's next claim (the pump's turn, the claim's query and commit: a claim
that found nothing leaves the worker idle until its next tick). Which part grows with more
workers says where they wait.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import func, select

from bot.storage.tables import outbox
from bot.storage.uow import Storage


@dataclass(frozen=True)
class Claims:
    count: int  # claims that took at least one row
    rows: int
    to_stored: float  # seconds from the claim to its outcomes stored, mean over claims
    to_next_claim: float  # seconds, mean over the claims a worker followed with another one

    @property
    def rows_per_claim(self) -> float:
        return self.rows / self.count if self.count else 0.0


NO_CLAIMS = Claims(0, 0, 0.0, 0.0)


@dataclass(frozen=True)
class _Claim:
    worker: str
    at: datetime
    rows: int
    stored: datetime


async def read_claims(storage: Storage, lease: timedelta) -> Claims:
    """The claims of the rows sent so far (rows not sent have no `sent_at`: left out)."""
    query = (
        select(
            outbox.c.claimed_by,
            outbox.c.lease_until,
            func.count(),
            func.max(outbox.c.sent_at),
        )
        .where(outbox.c.claimed_by.is_not(None), outbox.c.sent_at.is_not(None))
        .group_by(outbox.c.claimed_by, outbox.c.lease_until)
        .order_by(outbox.c.claimed_by, outbox.c.lease_until)
    )
    async with storage.engine.connect() as conn:
        result = (await conn.execute(query)).all()
    claims = [_Claim(row[0], row[1] - lease, row[2], row[3]) for row in result]
    if not claims:
        return NO_CLAIMS
    gaps = [
        (later.at - earlier.stored).total_seconds()
        for earlier, later in pairwise(claims)
        if earlier.worker == later.worker
    ]
    return Claims(
        count=len(claims),
        rows=sum(claim.rows for claim in claims),
        to_stored=statistics.fmean((c.stored - c.at).total_seconds() for c in claims),
        to_next_claim=statistics.fmean(gaps) if gaps else 0.0,
    )
