"""What PostgreSQL (on this machine) spent serving one database, read from outside the server.

A backend's CPU time is in /proc while it lives; once it has ended, the postmaster has reaped
it and its time is in the postmaster's children's time (cutime + cstime). A worker's pool
closes the connections it opened beyond its pool size as it returns them, so those backends
end in the middle of a run: counting only the live backends would miss them. The reaped time
is the whole server's, other databases' ended backends included: on a quiet machine that is
the bench's.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from bench._support import TICKS, cpu_seconds


@dataclass(frozen=True)
class Snapshot:
    backends: dict[int, float]  # CPU-s so far of each live backend of the database
    ended: float  # CPU-s so far of the server's ended (reaped) backends, any database
    sessions: int  # connections opened so far to the database (pg_stat_database.sessions)


@dataclass(frozen=True)
class Usage:
    """Between two snapshots."""

    cpu: dict[int, float]  # per backend alive at the second snapshot
    ended: float
    sessions: int

    def cpu_of(self, pids: set[int]) -> float:
        return sum(cpu for pid, cpu in self.cpu.items() if pid in pids)

    @property
    def total(self) -> float:
        return sum(self.cpu.values()) + self.ended


async def snapshot(server: str, database: str) -> Snapshot:
    admin = await asyncpg.connect(server)
    try:
        rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
        sessions = await admin.fetchval(
            "SELECT coalesce(sessions, 0) FROM pg_stat_database WHERE datname = $1", database
        )
        postmaster = _parent(await admin.fetchval("SELECT pg_backend_pid()"))
    finally:
        await admin.close()
    backends: dict[int, float] = {}
    for row in rows:
        with contextlib.suppress(OSError):  # a backend that ended meanwhile
            backends[row["pid"]] = cpu_seconds(row["pid"])
    return Snapshot(backends, _reaped_cpu(postmaster), int(sessions or 0))


def usage(before: Snapshot, after: Snapshot) -> Usage:
    # A backend that started during the run has no earlier reading: all its time counts.
    cpu = {pid: used - before.backends.get(pid, 0.0) for pid, used in after.backends.items()}
    # A backend alive at the start that ended during the run: its time before the start is in
    # `ended` too, so take it off again.
    gone = sum(used for pid, used in before.backends.items() if pid not in after.backends)
    # The snapshot's own connection ends after each snapshot: one session less.
    sessions = max(0, after.sessions - before.sessions - 1)
    return Usage(cpu, after.ended - before.ended - gone, sessions)


def _parent(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise RuntimeError(f"no parent in /proc/{pid}/status")


def _reaped_cpu(pid: int) -> float:
    """User + system CPU time of the ended children `pid` has waited for, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICKS
