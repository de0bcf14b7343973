"""Column types shared by the tables (and mirrored by hand in the migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLite only auto-increments an `INTEGER PRIMARY KEY` (the rowid alias), not a BIGINT one,
# while PostgreSQL ids should be 64-bit so a busy outbox never runs out.
Id: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL: binary, indexable, and equality-comparable, unlike plain JSON.
Json: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored as UTC and always read back timezone-aware in UTC.

    PostgreSQL's `timestamptz` keeps the instant; SQLite has no timestamp type and SQLAlchemy
    stores the wall-clock text without an offset. Normalising every value to UTC before it is
    written makes the SQLite text sort chronologically (so `not_before <= now` is right) and lets
    us re-attach UTC on the way out.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive value has no instant: guessing its zone would silently shift schedules.
            raise ValueError(f"naive datetime {value!r}: storage needs timezone-aware values")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
