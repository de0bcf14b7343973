"""Helpers shared by the repositories.

Statements are built once, when the module is imported, and run with their values as execution
parameters: `await conn.execute(STATEMENT, {"name": value})`. Building a statement per call
(`select(...).where(col == value)`, `insert(t).values(...)`) makes SQLAlchemy coerce every value
and compute a fresh cache key each time, which costs more CPU than running the statement does
on SQLite. A prebuilt statement memoizes its cache key, so SQLAlchemy goes straight to the
compiled form it cached for the connection's dialect.

Bound parameters get the column's type either by being compared with a column
(`col == bindparam("x")`) or explicitly (`binds`): the type is what turns a datetime into UTC
(`bot.storage.types.UTCDateTime`) and a dict into JSON.

Two traps of INSERT and UPDATE with execution parameters: SQLAlchemy adds every parameter named
like a column to the VALUES / SET clause, even one the statement does not mention (so pass only
the keys the statement uses), and for the same reason a bound parameter in the WHERE clause of an
UPDATE must not be named like a column of its table (on `outbox`: `of_contact`, not `contact_id`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Column, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter

from bot.storage.errors import StorageConfigError

Insert = postgresql.Insert | sqlite.Insert
InsertFactory = Callable[[Table], Insert]

S = TypeVar("S", bound=Executable)


class Connection(Protocol):
    """What repositories need of a connection: SQLAlchemy's AsyncConnection (PostgreSQL) or
    the inline SQLite connection (`bot.storage.sqlite_inline`)."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...


class PerDialect(Generic[S]):
    """A statement that is written differently per database, built once for each of them.

    `build` gets the dialect's `insert` (the one with ON CONFLICT support). ON CONFLICT DO
    NOTHING is how a duplicate is skipped without an error: on PostgreSQL an IntegrityError
    would abort the whole transaction, not only the statement.
    """

    def __init__(self, build: Callable[[InsertFactory], S]) -> None:
        self._by_dialect: dict[str, S] = {
            "sqlite": build(sqlite.insert),
            "postgresql": build(postgresql.insert),
        }

    def of(self, conn: Connection) -> S:
        name = conn.dialect.name
        try:
            return self._by_dialect[name]
        except KeyError:
            # create_engine only builds SQLite and PostgreSQL engines; say so if that changes.
            raise StorageConfigError(f"Nudge does not support the {name!r} database") from None


def binds(table: Table, *names: str) -> dict[Column[Any], BindParameter[Any]]:
    """`{column: bindparam(name)}` for `.values()`: each parameter is named like its column and
    carries the column's type."""
    columns: list[Column[Any]] = [table.c[name] for name in names]
    return {column: bindparam(column.key, type_=column.type) for column in columns}


class SqlRepository:
    """A repository bound to the connection (and so the transaction) of one unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
