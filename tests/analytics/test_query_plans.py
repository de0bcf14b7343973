"""The report queries use the indexes migrations 0011 and 0012 made for them (SQLite's plan).

A plan is fragile: one more condition (say `direction = 'in'` on the button presses) and SQLite
walks another index, and a report that took 0.2 s takes a minute on a big database
(bench/reports.py). These tests read the plan, so such a change fails here first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from bot.storage import Storage
from bot.storage.repositories import report_funnels, report_service

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


async def plan(storage: Storage, statement: Any) -> str:
    compiled = statement.compile(dialect=storage.engine.dialect)
    values = {"start": START, "end": END, "since": START, "active_since": START, "limit": 10}
    params = {name: values.get(name, bind.value) for name, bind in compiled.binds.items()}
    processed = compiled.construct_params(params)
    ordered = [processed[name] for name in compiled.positiontup or []]
    async with storage.engine.connect() as conn:
        raw = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(ordered))
        return "\n".join(str(row[-1]) for row in raw)  # (id, parent, unused, detail)


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        (report_funnels._STEP_COUNTS, "ix_enrollments_entered_at"),
        (report_funnels._BUTTON_TEXTS, "ix_messages_funnel_button_created_at"),
        # What became of the steps' messages: the cohort, then its outbox rows (migration 0012),
        # ranked from the index alone.
        (report_funnels._STEP_DELIVERIES["sqlite"], "ix_enrollments_entered_at"),
        (
            report_funnels._STEP_DELIVERIES["sqlite"],
            "USING COVERING INDEX ix_outbox_enrollment_id_step_id_status",
        ),
        (report_service._HANDOFFS, "ix_handoffs_requested_at"),
        (report_service._HANDOFFS, "ix_handoffs_contact_id_requested_at"),
        (report_service._SELF_SERVICE, "ix_handoffs_contact_id_requested_at"),
        (report_service._SURVEYS, "ix_survey_responses_answered_at"),
        (report_service._CONVERSATIONS, "ix_conversations_opened_at"),
        (report_service._RETENTION, "ix_contacts_created_at"),
        (report_service._RETENTION, "ix_messages_contact_id_direction_created_at"),
        (report_service._RETENTION, "ix_api_events_contact_id_type_occurred_at"),
    ],
)
async def test_report_queries_walk_their_indexes(
    sqlite_storage: Storage, statement: Any, index: str
) -> None:
    assert index in await plan(sqlite_storage, statement)


async def test_the_button_index_holds_only_button_presses(sqlite_storage: Storage) -> None:
    async with sqlite_storage.engine.connect() as conn:
        sql = (await conn.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_messages_funnel_button_created_at'"
        ))).scalar_one()  # fmt: skip
    assert "WHERE text LIKE '[button] fn:%'" in sql


async def test_the_step_index_holds_only_funnel_rows(sqlite_storage: Storage) -> None:
    async with sqlite_storage.engine.connect() as conn:
        sql = (await conn.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_enrollment_id_step_id_status'"
        ))).scalar_one()  # fmt: skip
    assert sql.endswith("WHERE enrollment_id IS NOT NULL")


async def test_a_plan_names_only_the_indexes_it_walks(sqlite_storage: Storage) -> None:
    found = await plan(sqlite_storage, report_service._SURVEYS)
    assert "ix_enrollments_entered_at" not in found and "ix_handoffs" not in found
