"""APScheduler wiring: interval jobs that wake the pumps."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduling.pump import Pump


def build_scheduler(pumps: list[tuple[Pump, float]]) -> AsyncIOScheduler:
    """One interval job per pump; a late or overlapping run is coalesced, never stacked."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for pump, seconds in pumps:
        scheduler.add_job(
            pump.wake,
            "interval",
            seconds=seconds,
            id=f"wake-{pump.name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
    return scheduler
