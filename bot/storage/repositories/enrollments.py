"""Enrollments: contacts on their way through funnels, claimed in batches when steps fall due."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Integer, Row, TextClause, bindparam, func, select, text

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.repositories.json_rows import JsonRows, bulk_insert
from bot.storage.tables import enrollments as table

_OPEN = [status.value for status in EnrollmentStatus if status.is_open]
# What `save` writes: the rest (funnel, contact, trigger event, entered_at) never changes.
_MUTABLE = (
    "status",
    "step_id",
    "resume_step_id",
    "due_at",
    "waiting_since",
    "variables",
    "variant",
    "updated_at",
    "ended_at",
    "end_reason",
)
_INSERTED = ("funnel_id", "contact_id", "event", "entered_at", *_MUTABLE)
# The columns are the Enrollment's attributes: add_many reads them in one call a row (the
# statuses are StrEnums, which JSON writes as their values).
_INSERTED_FIELDS = attrgetter(*_INSERTED)


def _bulk_save() -> dict[str, TextClause]:
    """`save` for many enrollments: one UPDATE ... FROM the rows, each compared on its
    expected version; RETURNING the ids it wrote."""
    statements = {}
    for dialect in ("sqlite", "postgresql"):
        sets = [f'"{name}" = {_SAVED.value(dialect, name)}' for name in _MUTABLE]
        sql = (
            f"UPDATE enrollments SET {', '.join(sets)}, version = enrollments.version + 1 "
            f"FROM {_SAVED.source(dialect)} "
            f"WHERE enrollments.id = {_SAVED.value(dialect, 'id')} "
            f"AND enrollments.version = {_SAVED.value(dialect, 'version')} "
            "RETURNING enrollments.id"
        )
        statements[dialect] = text(sql)
    return statements


# The rows of add_many, and of save_many (with the expected version in `version`).
_NEW = JsonRows(table, _INSERTED)
_SAVED = JsonRows(table, ("id", "version", *_MUTABLE))

# Statements are built once (see `_base`); a WHERE parameter is never named like a column.


_ADD = table.insert().values(binds(table, *_INSERTED)).values(version=0).returning(table.c.id)
# add_many and save_many: one statement for the lot, not one per row (see `JsonRows`).
_ADD_MANY = bulk_insert(_NEW, constants={"version": 0})
_SAVE_MANY = _bulk_save()
_GET = select(table).where(table.c.id == bindparam("enrollment_id"))
_OPEN_FOR_CONTACT = (
    select(table)
    .where(table.c.contact_id == bindparam("of_contact"), table.c.status.in_(_OPEN))
    .order_by(table.c.id)
)
_LAST_FOR = (
    select(table)
    .where(
        table.c.contact_id == bindparam("of_contact"), table.c.funnel_id == bindparam("of_funnel")
    )
    .order_by(table.c.id.desc())
    .limit(1)
)
_OPEN_FOR = _LAST_FOR.where(table.c.status.in_(_OPEN))
# `last_for` and `open_for` for many contacts at once: per contact, the id of its latest
# enrollment in the funnel and whether any of its enrollments there is open; then those
# enrollments by primary key. The contacts are ONE parameter, a JSON array, not an `IN (...)` of
# bound values: on PostgreSQL the planner, its statistics stale while a campaign enrolls, read
# the funnel's rows for each chunk of 500 and compared each against the list (100,000 contacts
# enrolled in 128 s); a semi-join on the array takes 30 ms a 5,000 (bench/README.md).
_CONTACT_LIST = {
    "sqlite": "SELECT value FROM json_each(:contact_ids)",
    "postgresql": "SELECT CAST(value AS BIGINT) "
    "FROM jsonb_array_elements_text(CAST(:contact_ids AS JSONB))",
}
_OPEN_SQL = ", ".join(f"'{status}'" for status in _OPEN)  # our own enum values, not input
_LATEST = {
    dialect: text(
        "SELECT contact_id, max(id) AS last_id, "
        f"max(CASE WHEN status IN ({_OPEN_SQL}) THEN 1 ELSE 0 END) AS inside "
        f"FROM enrollments WHERE funnel_id = :of_funnel AND contact_id IN ({contacts}) "
        "GROUP BY contact_id"
    )
    for dialect, contacts in _CONTACT_LIST.items()
}
_BY_IDS = select(table).where(table.c.id.in_(bindparam("enrollment_ids", expanding=True)))
_IN_CHUNK = 500  # ids per `IN (...)`: well below SQLite's bound-parameter limit
_JSON_CHUNK = 5_000  # contacts per JSON array: a statement stays short
# One UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, like the outbox's
# claim: on PostgreSQL a second worker skips the rows the first holds; SQLite runs the whole
# statement under its single write lock. SET reads the old values, so `claimed_due_at` keeps the
# due_at the claim found while due_at becomes the lease.
_DUE = (
    select(table.c.id)
    .where(table.c.due_at <= bindparam("now"), table.c.status.in_(_OPEN))
    .order_by(table.c.due_at, table.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)
_CLAIM_DUE = (
    table.update()
    .where(table.c.id.in_(_DUE))
    .values(
        claimed_due_at=table.c.due_at,
        due_at=bindparam("lease_until", type_=table.c.due_at.type),
        version=table.c.version + 1,
    )
    .returning(table)
)
_SAVE = (
    table.update()
    .where(
        table.c.id == bindparam("enrollment_id"),
        table.c.version == bindparam("expected_version", type_=Integer),
    )
    .values(binds(table, *_MUTABLE))
    .values(version=table.c.version + 1)
)
_EXIT_OPEN = (
    table.update()
    .where(table.c.contact_id == bindparam("of_contact"), table.c.status.in_(_OPEN))
    .values(binds(table, "end_reason", "ended_at", "updated_at"))
    .values(status=EnrollmentStatus.EXITED.value, due_at=None, version=table.c.version + 1)
    .returning(table)
)
# By "only in one funnel".
_EXIT = {False: _EXIT_OPEN, True: _EXIT_OPEN.where(table.c.funnel_id == bindparam("of_funnel"))}
_COUNT_OPEN = select(func.count()).select_from(table).where(table.c.status.in_(_OPEN))
_COUNT_BY_STATUS_ALL = select(table.c.status, func.count()).group_by(table.c.status)
# By "only in one funnel".
_COUNT_BY_STATUS = {
    False: _COUNT_BY_STATUS_ALL,
    True: _COUNT_BY_STATUS_ALL.where(table.c.funnel_id == bindparam("of_funnel")),
}


def _to_enrollment(row: Row[Any], due_at: datetime | None = None) -> Enrollment:
    return Enrollment(
        id=row.id,
        funnel_id=row.funnel_id,
        contact_id=row.contact_id,
        status=EnrollmentStatus(row.status),
        step_id=row.step_id,
        due_at=due_at if due_at is not None else row.due_at,
        entered_at=row.entered_at,
        updated_at=row.updated_at,
        event=dict(row.event),
        variables=dict(row.variables),
        resume_step_id=row.resume_step_id,
        variant=row.variant,
        waiting_since=row.waiting_since,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        version=row.version,
    )


def _mutable_params(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "status": enrollment.status.value,
        "step_id": enrollment.step_id,
        "resume_step_id": enrollment.resume_step_id,
        "due_at": enrollment.due_at,
        "waiting_since": enrollment.waiting_since,
        "variables": enrollment.variables,
        "variant": enrollment.variant,
        "updated_at": enrollment.updated_at,
        "ended_at": enrollment.ended_at,
        "end_reason": enrollment.end_reason,
    }


def _insert_params(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "funnel_id": enrollment.funnel_id,
        "contact_id": enrollment.contact_id,
        "event": enrollment.event,
        "entered_at": enrollment.entered_at,
        **_mutable_params(enrollment),
    }


class SqlEnrollmentRepository(SqlRepository):
    async def add(self, enrollment: Enrollment) -> Enrollment:
        new_id = (await self._conn.execute(_ADD, _insert_params(enrollment))).scalar_one()
        return replace(enrollment, id=new_id, version=0)

    async def add_many(self, enrollments: Iterable[Enrollment]) -> list[int]:
        rows = [list(_INSERTED_FIELDS(enrollment)) for enrollment in enrollments]
        if not rows:
            return []
        dialect = self._conn.dialect
        result = await self._conn.execute(_ADD_MANY[dialect.name], _NEW.params(dialect, rows))
        return sorted(result.scalars())

    async def get(self, enrollment_id: int) -> Enrollment | None:
        row = (await self._conn.execute(_GET, {"enrollment_id": enrollment_id})).first()
        return _to_enrollment(row) if row is not None else None

    async def open_for_contact(self, contact_id: int) -> list[Enrollment]:
        result = await self._conn.execute(_OPEN_FOR_CONTACT, {"of_contact": contact_id})
        return [_to_enrollment(row) for row in result]

    async def open_for(self, contact_id: int, funnel_id: str) -> Enrollment | None:
        params = {"of_contact": contact_id, "of_funnel": funnel_id}
        row = (await self._conn.execute(_OPEN_FOR, params)).first()
        return _to_enrollment(row) if row is not None else None

    async def last_for(self, contact_id: int, funnel_id: str) -> Enrollment | None:
        params = {"of_contact": contact_id, "of_funnel": funnel_id}
        row = (await self._conn.execute(_LAST_FOR, params)).first()
        return _to_enrollment(row) if row is not None else None

    async def entry_states(
        self, contact_ids: Iterable[int], funnel_id: str
    ) -> dict[int, tuple[Enrollment, bool]]:
        """For each of `contact_ids` ever enrolled in `funnel_id`: its latest enrollment there
        and whether it is inside the funnel now (an open enrollment). Others are left out."""
        wanted = sorted(set(contact_ids))
        statement = _LATEST[self._conn.dialect.name]
        latest: dict[int, bool] = {}  # the latest enrollment's id: whether the contact is inside
        for start in range(0, len(wanted), _JSON_CHUNK):
            chunk = json.dumps(wanted[start : start + _JSON_CHUNK])
            found = await self._conn.execute(
                statement, {"of_funnel": funnel_id, "contact_ids": chunk}
            )
            latest.update((row.last_id, bool(row.inside)) for row in found)
        ids = sorted(latest)  # none at all: the common case of a campaign
        states: dict[int, tuple[Enrollment, bool]] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            params = {"enrollment_ids": ids[start : start + _IN_CHUNK]}
            for row in await self._conn.execute(_BY_IDS, params):
                states[row.contact_id] = (_to_enrollment(row), latest[row.id])
        return states

    async def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[Enrollment]:
        if limit <= 0:
            return []
        params = {"now": now, "limit": limit, "lease_until": lease_until}
        result = await self._conn.execute(_CLAIM_DUE, params)
        claimed = [_to_enrollment(row, due_at=row.claimed_due_at) for row in result]
        # RETURNING has no defined order; the claim's is the oldest due first.
        return sorted(claimed, key=lambda enrollment: (enrollment.due_at, enrollment.id))

    async def save(self, enrollment: Enrollment, expected_version: int) -> bool:
        params = {
            "enrollment_id": enrollment.id,
            "expected_version": expected_version,
            **_mutable_params(enrollment),
        }
        if (await self._conn.execute(_SAVE, params)).rowcount != 1:
            return False
        enrollment.version = expected_version + 1
        return True

    async def save_many(self, items: Sequence[tuple[Enrollment, int]]) -> list[bool]:
        rows = []
        for enrollment, expected_version in items:
            params = _mutable_params(enrollment)
            rows.append([enrollment.id, expected_version, *(params[name] for name in _MUTABLE)])
        if not rows:
            return []
        dialect = self._conn.dialect
        result = await self._conn.execute(_SAVE_MANY[dialect.name], _SAVED.params(dialect, rows))
        written = set(result.scalars())
        for enrollment, expected_version in items:
            if enrollment.id in written:
                enrollment.version = expected_version + 1
        return [enrollment.id in written for enrollment, _ in items]

    async def exit_open_for_contact(
        self, contact_id: int, reason: str, at: datetime, funnel_id: str | None = None
    ) -> list[Enrollment]:
        params: dict[str, Any] = {
            "of_contact": contact_id,
            "end_reason": reason,
            "ended_at": at,
            "updated_at": at,
        }
        if funnel_id is not None:
            params["of_funnel"] = funnel_id
        result = await self._conn.execute(_EXIT[funnel_id is not None], params)
        return sorted((_to_enrollment(row) for row in result), key=lambda e: e.id)

    async def count_open(self) -> int:
        return int((await self._conn.execute(_COUNT_OPEN)).scalar_one())

    async def count_by_status(self, funnel_id: str | None = None) -> dict[EnrollmentStatus, int]:
        params = {"of_funnel": funnel_id} if funnel_id is not None else {}
        counts = dict.fromkeys(EnrollmentStatus, 0)
        rows: list[Any] = list(
            await self._conn.execute(_COUNT_BY_STATUS[funnel_id is not None], params)
        )
        for status, count in rows:
            counts[EnrollmentStatus(status)] = int(count)
        return counts
