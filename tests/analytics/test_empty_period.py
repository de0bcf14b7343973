"""Every report on a period with nothing in it: empty, and the trends still have every day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.analytics import Bucket, GroupBy, ReportService
from bot.domain.clock import FakeClock
from bot.storage import Storage


async def test_every_report_of_an_empty_period_says_it_is_empty(
    storage: Storage, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    reports = ReportService(storage.uow, clock, zone="Europe/Chisinau")
    period = reports.period(first="2026-11-02", last="2026-11-08")

    assert (await reports.funnels(period)).empty
    assert (await reports.service(period)).empty
    assert (await reports.service(period, GroupBy.AGENT)).groups == []
    assert (await reports.scores(period, GroupBy.TEAM)).empty
    assert (await reports.drivers(period)).empty
    assert (await reports.retention(period)).empty
    trend = await reports.csat_trend(period)
    # Seven local days, each without a value (a gap in the chart, not a zero).
    assert [p.start for p in trend] == [date(2026, 11, d) for d in range(2, 9)]
    assert all(p.value is None and p.count == 0 for p in trend)
    weekly = await reports.first_response_trend(period, Bucket.WEEK)
    # 2026-11-02 is a Monday: the period is exactly one week.
    assert [(p.start, p.value, p.count) for p in weekly] == [(date(2026, 11, 2), None, 0)]
