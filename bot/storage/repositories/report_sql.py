"""Time arithmetic inside report queries, written per database.

SQLite stores a timestamp as UTC text and computes with `julianday` (days as a float);
PostgreSQL has `timestamptz` and intervals. Durations are returned in seconds; SQLite's are
exact to about 10 µs, so callers round them to milliseconds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):
    """`seconds_between(earlier, later)`: `later - earlier` in seconds (NULL if either is)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


class within_a_week_after(FunctionElement[bool]):
    """`within_a_week_after(later, earlier)`: `later <= earlier + 7 days`."""

    type = Boolean()
    inherit_cache = True
    name = "within_a_week_after"


def _two(element: Any, compiler: Any, **kw: Any) -> tuple[str, str]:
    first, second = list(element.clauses)
    return compiler.process(first, **kw), compiler.process(second, **kw)


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    earlier, later = _two(element, compiler, **kw)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgres(element: Any, compiler: Any, **kw: Any) -> str:
    earlier, later = _two(element, compiler, **kw)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(within_a_week_after, "sqlite")
def _week_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = _two(element, compiler, **kw)
    return f"(julianday({later}) <= julianday({earlier}) + 7)"


@compiles(within_a_week_after, "postgresql")
def _week_postgres(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = _two(element, compiler, **kw)
    return f"({later} <= {earlier} + INTERVAL '7 days')"
