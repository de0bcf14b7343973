"""Foreign keys off while SQLite's schema changes, as SQLite's own procedure for altering a table
asks (sqlite.org/lang_altertable.html).

SQLite cannot drop or change a column in place: a migration copies the table and drops the old
one. With foreign keys enforced, dropping a table first deletes its rows, which fires the
references' ON DELETE actions (a message's `outbox_id` set to NULL, a contact's identities
deleted with CASCADE) or fails outright when rows still point at it. With them off nothing
fires; the references are checked once the change is made, before it is committed.

`PRAGMA foreign_keys` is a no-op inside a transaction, so keys go off before the migration's
first statement and back on after its commit (`bot.storage.migrate`).
"""

from __future__ import annotations

from sqlalchemy import Connection


class ForeignKeyError(RuntimeError):
    """A schema change left rows pointing at rows that do not exist."""


def keys_off(connection: Connection) -> None:
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "SQLite kept foreign keys on: a transaction was already open before the migration"
        )


def check_keys(connection: Connection) -> None:
    """Raise (so the change is rolled back) if any reference points nowhere."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        shown = ", ".join(
            f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in broken[:5]
        )
        raise ForeignKeyError(
            f"{len(broken)} row(s) point at missing rows after the migration: {shown}"
        )


def keys_on(connection: Connection) -> None:
    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
