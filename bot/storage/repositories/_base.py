"""Helpers shared by the repositories."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

Insert = postgresql.Insert | sqlite.Insert


def dialect_insert(conn: AsyncConnection, table: Table) -> Insert:
    """An INSERT with ON CONFLICT support for the connection's database.

    ON CONFLICT DO NOTHING is how a duplicate is skipped without an error: on PostgreSQL an
    IntegrityError would abort the whole transaction, not only the statement.
    """
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class SqlRepository:
    """A repository bound to the connection (and so the transaction) of one unit of work."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
