"""What the reloading libraries (funnels, surveys) share: noticing that a folder changed, and
keeping the previous version of a definition whose file broke in an edit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

FilesStamp = tuple[tuple[str, float, int], ...]


class Definition(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def source(self) -> Path | None: ...


D = TypeVar("D", bound=Definition)


def files_stamp(paths: Iterable[Path]) -> FilesStamp:
    """Name, modification time and size of each file: equal stamps mean nothing changed."""
    stamps = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:  # removed between the listing and now: the next stamp differs anyway
            continue
        stamps.append((str(path), info.st_mtime, info.st_size))
    return tuple(stamps)


def kept_on_error(
    previous: Iterable[D], fresh: Sequence[D], rejected: Iterable[str]
) -> tuple[D, ...]:
    """The previous definitions whose file now has errors (and no fresh one has their id):
    they keep running until the file is fixed."""
    broken = {str(Path(path).resolve()) for path in rejected}
    fresh_ids = {item.id for item in fresh}
    return tuple(
        item
        for item in previous
        if item.source is not None
        and str(Path(item.source).resolve()) in broken
        and item.id not in fresh_ids
    )
