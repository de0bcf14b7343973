"""PostgreSQL stopped and started again under a worker process that is sending: nothing is
marked sent without a success, and work resumes by itself.

The test runs its own PostgreSQL instance (see own_postgres.py), never the shared one. The
outage here lasts OUTAGE_SECONDS to keep CI short (set NUDGE_TEST_OUTAGE_SECONDS to change it);
bench/outage.py runs the issue's full 30 seconds and prints the figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.domain.model import OutboxStatus
from tests.scaleout.outage import OutageReport, run_outage
from tests.scaleout.own_postgres import missing_tools

OUTAGE_SECONDS = float(os.environ.get("NUDGE_TEST_OUTAGE_SECONDS", "6"))
ROWS = 1500
CHATS = 150
SLOW_ANSWER_SECONDS = 0.1

SETTLED = {OutboxStatus.SENT.value, OutboxStatus.UNKNOWN.value, OutboxStatus.FAILED.value}


def _check(report: OutageReport) -> None:
    """The promises, whatever the outage length."""
    logs = report.logs[-3000:]
    assert report.in_flight_at_stop > 0, "the stop came when nothing was in flight"
    assert len(report.statuses) == report.rows
    unsettled = {t: s for t, s in report.statuses.items() if s[0] not in SETTLED}
    assert unsettled == {}, unsettled
    without_reason = [
        text
        for text, (status, reason) in report.statuses.items()
        if status != OutboxStatus.SENT.value and not reason
    ]
    assert without_reason == [], without_reason
    sent = report.with_status(OutboxStatus.SENT)
    unknown = report.with_status(OutboxStatus.UNKNOWN)
    assert sent <= set(report.delivered), "a row is marked sent that Telegram never received"
    assert report.duplicates <= unknown, f"received twice: {report.duplicates - unknown}"
    assert set(report.delivered) <= sent | unknown  # nothing arrived that is recorded otherwise
    assert report.worker_alive, f"the worker did not survive the outage:\n{logs}"


async def test_postgres_stopped_and_started_again_loses_nothing_and_resumes_by_itself(
    tmp_path: Path,
) -> None:
    reason = missing_tools()
    if reason:
        pytest.skip(f"no own PostgreSQL instance: {reason}")

    report = await run_outage(tmp_path, OUTAGE_SECONDS, ROWS, CHATS, SLOW_ANSWER_SECONDS)

    _check(report)
    # Sends were stopped midway and finished afterwards by the same worker: it resumed.
    assert 0 < report.sent_before_stop < ROWS
    assert len(report.with_status(OutboxStatus.SENT)) > report.sent_before_stop
