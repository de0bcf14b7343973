"""Errors raised by the storage package.

They carry no SQLAlchemy types so the composition root (`bot/app.py`, `bot/cli.py`) can report
them without importing SQLAlchemy.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class for storage errors."""


class StorageConfigError(StorageError):
    """The storage URL cannot be used: unparseable or an unsupported database/driver."""


class StorageUnavailableError(StorageError):
    """The database did not answer (server down, wrong credentials, unwritable file, ...)."""
