"""`SqlReportRepository`: the queries the reports (`bot.analytics`) are computed from.

Every query is bounded by a time index: enrollments by `entered_at` (the funnel cohort),
hand-offs by `requested_at`, conversations by `opened_at`, survey answers by `answered_at`,
contacts by `created_at`, questions by `created_at`. Migration 0011 adds the ones that were
missing; `bench/reports.py` times every report with and without them.
"""

from __future__ import annotations

from bot.storage.repositories.report_funnels import SqlFunnelReportQueries
from bot.storage.repositories.report_service import SqlServiceReportQueries


class SqlReportRepository(SqlFunnelReportQueries, SqlServiceReportQueries):
    """Implements `bot.domain.report_ports.ReportRepository`."""
