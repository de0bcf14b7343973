"""The service report and CSAT/NPS on the seeded world (tests/analytics/seed.py), by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.analytics import GroupBy, Period, Rate, ReportService, ServiceRow
from bot.domain.clock import FakeClock
from bot.storage import Storage
from tests.analytics.seed import FIRST_DAY, LAST_DAY, ZONE, seed_world


@pytest.fixture
async def reports(storage: Storage, clock: FakeClock) -> AsyncIterator[ReportService]:
    await seed_world(storage, clock)
    yield ReportService(storage.uow, clock, zone=ZONE)


def week(reports: ReportService) -> Period:
    return reports.period(first=FIRST_DAY, last=LAST_DAY)


async def test_service_totals(reports: ReportService) -> None:
    report = await reports.service(week(reports))
    total = report.total
    # CSAT: S1 5, S2 4, S3 2, S4 5 (S4 at 23:40 UTC on the 1st is the 2nd locally; S5 at
    # 21:40 UTC is the 1st locally: outside) -> 4-5 in 3 of 4 = 75 %.
    assert total.scores.csat == Rate(3, 4)
    # NPS: 10, 8, 3, 9 -> promoters 2 (10, 9), detractors 1 (3): (2 - 1) / 4 = 25.
    assert (total.scores.promoters, total.scores.detractors, total.scores.nps) == (2, 1, 25.0)
    # First response: H1 60, H2 180, H3 120, H4 300 s (H5 outside, H6 none yet).
    # Sorted 60 120 180 300: median (120 + 180) / 2 = 150; p90 at 0.9 * 3 = 2.7:
    # 180 + 0.7 * (300 - 180) = 264.
    assert total.first_response is not None
    assert (total.first_response.count, total.first_response.median) == (4, 150.0)
    assert total.first_response.p90 == pytest.approx(264.0)
    # Resolution (closed or back to bot): H1 600, H2 1800, H3 1200 (H4 closed idle: not
    # resolved). Median 1200; p90 at 1.8: 1200 + 0.8 * 600 = 1680.
    assert total.resolution is not None
    assert (total.resolution.count, total.resolution.median) == (3, 1200.0)
    assert total.resolution.p90 == pytest.approx(1680.0)
    # Conversations opened in the period: telegram H1, H2, H6, A1, A2, R1, R2 = 7 (3 handed
    # off), web chat H3, H4, A3, A4, R6 = 5 (2 handed off): 5 / 12.
    assert total.handoff_rate == Rate(5, 12)
    # Answered by the bot: A1 (Yes), A2 (no feedback) resolved; A3 (No) and A4 (C10 opened a
    # new conversation 5 days later) not: 2 / 4.
    assert total.self_service == Rate(2, 4)
    # Closed by an agent: H1 (C1 asked again 3 days later, H6) and H2: 1 / 2.
    assert total.first_contact_resolution == Rate(1, 2)
    # With an SLA: H1 kept, H2 and H4 breached: 2 / 3.
    assert total.sla_breaches == Rate(2, 3)
    assert not report.empty


def _by_group(rows: list[ServiceRow]) -> dict[str | None, ServiceRow]:
    return {row.group: row for row in rows}


async def test_service_by_agent(reports: ReportService) -> None:
    rows = _by_group((await reports.service(week(reports), GroupBy.AGENT)).groups)
    assert set(rows) == {"Alice", "Bob", "(no agent)"}
    alice, bob, nobody = rows["Alice"], rows["Bob"], rows["(no agent)"]
    # Alice: CSAT 5, 4 -> 2/2; first response 60, 180 -> median 120, p90 60 + 0.9 * 120 = 168.
    assert alice.scores.csat == Rate(2, 2)
    assert alice.first_response is not None
    assert alice.first_response.median == 120.0
    assert alice.first_response.p90 == pytest.approx(168.0)
    # Bob: CSAT 2, 5 -> 1/2; 120 and 300 -> median 210; SLA: H4 breached of H4 -> 1/1.
    assert bob.scores.csat == Rate(1, 2)
    assert bob.first_response is not None and bob.first_response.median == 210.0
    assert bob.sla_breaches == Rate(1, 1)
    # Nobody: H6 (queued) and the four NPS answers (10, 8, 3, 9 -> 25).
    assert nobody.scores.nps == 25.0 and nobody.scores.csat == Rate(0, 0)
    assert nobody.first_response is not None and nobody.first_response.count == 0
    # Hand-off rate and self-service have no agent: they do not apply.
    assert alice.handoff_rate is None and alice.self_service is None


async def test_service_by_team_and_channel(reports: ReportService) -> None:
    teams = _by_group((await reports.service(week(reports), GroupBy.TEAM)).groups)
    # Surveys carry the agent's team; NPS answers have none.
    assert set(teams) == {"support", "sales", "(no team)"}
    # support: H1, H2, H6 -> SLA H1 kept, H2 breached: 1/2; FCR H1 no, H2 yes: 1/2.
    assert teams["support"].sla_breaches == Rate(1, 2)
    assert teams["support"].first_contact_resolution == Rate(1, 2)
    # sales: H3 back to bot (not "closed"), H4 idle: no first-contact resolution to count.
    assert teams["sales"].first_contact_resolution == Rate(0, 0)
    channels = _by_group((await reports.service(week(reports), GroupBy.CHANNEL)).groups)
    assert set(channels) == {"telegram", "webchat", "(unknown)"}
    assert channels["telegram"].handoff_rate == Rate(3, 7)
    assert channels["webchat"].handoff_rate == Rate(2, 5)
    assert channels["telegram"].self_service == Rate(2, 2)  # A1, A2
    assert channels["webchat"].self_service == Rate(0, 2)  # A3 said No, C10 came back
    assert channels["telegram"].scores.csat == Rate(2, 2)  # S1, S2
    assert channels["(unknown)"].scores.nps_answers == 4  # funnel surveys have no chat


async def test_scores_by_funnel(reports: ReportService) -> None:
    report = await reports.scores(week(reports), GroupBy.FUNNEL)
    rows = {row.group: row.scores for row in report.groups}
    assert set(rows) == {"(no funnel)", "welcome", "cart"}
    # welcome: 10, 8, 3 -> promoters 1, detractors 1 -> 0; cart: 9 -> 100.
    assert (rows["welcome"].nps, rows["cart"].nps) == (0.0, 100.0)
    assert rows["(no funnel)"].csat == Rate(3, 4)
    service = await reports.service(week(reports), GroupBy.FUNNEL)
    # A hand-off belongs to no funnel: its metrics do not apply per funnel.
    assert all(row.first_response is None for row in service.groups)


async def test_daily_trends_in_the_zone(reports: ReportService) -> None:
    period = week(reports)
    csat = {p.start: (p.value, p.count) for p in await reports.csat_trend(period)}
    # 2nd: S1 5 and S4 5 (23:40 UTC on the 1st) -> 100 % of 2; 3rd: S2 4; 4th: S3 2 -> 0 %.
    assert csat[date(2026, 11, 2)] == (100.0, 2)
    assert csat[date(2026, 11, 3)] == (100.0, 1)
    assert csat[date(2026, 11, 4)] == (0.0, 1)
    assert csat[date(2026, 11, 5)] == (None, 0)
    assert len(csat) == 7
    wait = {p.start: (p.value, p.count) for p in await reports.first_response_trend(period)}
    # 2nd: H1 60 and H4 300 (23:30 UTC on the 1st) -> median 180; 3rd: 180; 4th: 120.
    assert wait[date(2026, 11, 2)] == (180.0, 2)
    assert wait[date(2026, 11, 3)] == (180.0, 1)
    assert wait[date(2026, 11, 4)] == (120.0, 1)
    assert wait[date(2026, 11, 5)] == (None, 0)  # H6 is still waiting


async def test_in_utc_the_boundary_rows_fall_on_the_first(
    storage: Storage, clock: FakeClock
) -> None:
    await seed_world(storage, clock)
    reports = ReportService(storage.uow, clock, zone="UTC")
    report = await reports.scores(reports.period(first=FIRST_DAY, last=LAST_DAY))
    # In UTC the 2nd starts at 00:00 UTC: S4 (23:40 on the 1st) drops out: 5, 4, 2 -> 2/3.
    assert report.total.csat == Rate(2, 3)
