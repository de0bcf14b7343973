"""Reload `knowledge_base/` while the bot runs: poll, reload only what changed, say what changed.

Polling file stamps (mtime, size, inode) needs no inotify and works on every file system and in
containers with mounted folders. Only files whose stamp moved are read; a file whose bytes did
not change (a `touch`, a save without edits) is not reloaded.

When an edit breaks an article, the bot keeps answering with its last good version (a half-saved
file must not make an answer vanish mid-conversation) and the problems are reported; the fixed
file replaces it. A deleted file's article goes away.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.knowledge.documents import KbDocument, KbLoadResult, KbProblem
from bot.knowledge.loader import MAX_FILE_BYTES, article_files, parse_article

log = logging.getLogger(__name__)

# A file written twice within one file-system timestamp tick keeps its stamp; one whose mtime
# is this close to when we read it is re-read (and compared by content) on the next scans.
RACY_WINDOW_NS = 2_000_000_000


@dataclass(frozen=True)
class KbChange:
    """What one scan found. `upserted` are the articles to (re)index, `removed_ids` the ids to
    drop; `problems` are those of the files reloaded in this scan."""

    added: tuple[Path, ...] = ()
    changed: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()
    upserted: tuple[KbDocument, ...] = ()
    removed_ids: tuple[str, ...] = ()
    problems: tuple[KbProblem, ...] = ()

    @property
    def upserted_ids(self) -> tuple[str, ...]:
        return tuple(document.id for document in self.upserted)

    @property
    def is_empty(self) -> bool:
        """No file was added, changed or removed (problems of the folder itself aside)."""
        return not (self.added or self.changed or self.removed)


OnChange = Callable[[KbChange], Awaitable[None] | None]
_Stamp = tuple[int, int, int]  # mtime_ns, size, inode


@dataclass(frozen=True)
class _Entry:
    """One file as last read: its stamp, content digest, and the article it serves."""

    stamp: _Stamp
    digest: bytes
    read_at_ns: int
    problems: tuple[KbProblem, ...] = ()
    served: KbDocument | None = None  # the last good version; kept while the file is broken


@dataclass
class _Scan:
    entries: dict[Path, _Entry]
    added: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    problems: list[KbProblem] = field(default_factory=list)


class KbWatcher:
    """Keeps the articles of `root` current; `on_change` hears of every change.

    The first `scan()` reports every article as added. A change is remembered only once
    `on_change` has taken it without raising, so a failed update is offered again next scan.
    """

    def __init__(
        self,
        root: Path,
        on_change: OnChange | None = None,
        *,
        now_ns: Callable[[], int] = time.time_ns,  # compared with file mtimes: the wall clock
    ) -> None:
        self.root = root
        self._on_change = on_change
        self._now_ns = now_ns
        self._entries: dict[Path, _Entry] = {}
        self._lock = asyncio.Lock()

    @property
    def documents(self) -> dict[str, KbDocument]:
        """The articles being served, by id (with a repeated id, the first file's)."""
        return _served(self._entries)

    def snapshot(self) -> KbLoadResult:
        """The served articles and the current problems of every file, for `lint`."""
        entries = [self._entries[path] for path in sorted(self._entries, key=self._key)]
        documents = tuple(entry.served for entry in entries if entry.served is not None)
        problems = tuple(problem for entry in entries for problem in entry.problems)
        return KbLoadResult(documents, problems)

    async def scan(self) -> KbChange:
        """Look at the folder once; reload what changed and tell `on_change` (if anything did)."""
        async with self._lock:
            scan = await asyncio.to_thread(self._scan_files)
            change = _change(self._entries, scan)
            if not change.is_empty and self._on_change is not None:
                outcome = self._on_change(change)
                if inspect.isawaitable(outcome):
                    await outcome
            self._entries = scan.entries
        if change.is_empty and change.problems:
            log.warning("%s", "\n".join(str(problem) for problem in change.problems))
        return change

    async def run(self, interval: float = 2.0) -> None:
        """Scan every `interval` seconds until cancelled; a failed scan is logged and retried."""
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("reloading the knowledge base failed; trying again")
            await asyncio.sleep(interval)

    def _key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _scan_files(self) -> _Scan:
        """The file-system half of a scan (runs in a thread): stat everything, read the few."""
        if not self.root.is_dir():  # a folder swapped during a deploy: keep serving what we have
            message = "knowledge base folder not found: keeping the articles already loaded"
            problem = KbProblem(self.root, None, None, message)
            return _Scan(dict(self._entries), problems=[problem])
        scan = _Scan({})
        for path in article_files(self.root):
            entry = self._entries.get(path)
            try:
                stamp = _stamp(path.stat())
                if entry is not None and not self._may_have_changed(entry, stamp):
                    scan.entries[path] = entry
                    continue
                with path.open("rb") as file:
                    data = file.read(MAX_FILE_BYTES + 1)
            except OSError:  # gone or locked since the listing: the next scan will tell
                if entry is not None:
                    scan.entries[path] = entry
                continue
            scan.entries[path] = self._reload(path, data, stamp, entry, scan)
        scan.removed = [path for path in self._entries if path not in scan.entries]
        return scan

    def _may_have_changed(self, entry: _Entry, stamp: _Stamp) -> bool:
        return stamp != entry.stamp or stamp[0] + RACY_WINDOW_NS >= entry.read_at_ns

    def _reload(
        self, path: Path, data: bytes, stamp: _Stamp, entry: _Entry | None, scan: _Scan
    ) -> _Entry:
        digest = hashlib.blake2b(data, digest_size=16).digest()
        now = self._now_ns()
        if entry is not None and entry.digest == digest:  # touched, not edited
            return replace(entry, stamp=stamp, read_at_ns=now)
        if len(data) > MAX_FILE_BYTES:
            message = "the file is over 1 MB: an article must be smaller"
            document, problems = None, [KbProblem(path, None, None, message)]
        else:
            document, problems = parse_article(path, data, self.root)
        (scan.added if entry is None else scan.changed).append(path)
        scan.problems.extend(problems)
        served = document if document is not None else entry.served if entry else None
        return _Entry(stamp, digest, now, tuple(problems), served)


def _stamp(stat: os.stat_result) -> _Stamp:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _served(entries: dict[Path, _Entry]) -> dict[str, KbDocument]:
    """Id -> the article served for it: with a repeated id, the first file in path order wins,
    as in `load_folder`."""
    served: dict[str, KbDocument] = {}
    for path in sorted(entries, key=lambda path: path.as_posix()):
        document = entries[path].served
        if document is not None:
            served.setdefault(document.id, document)
    return served


def _change(before: dict[Path, _Entry], scan: _Scan) -> KbChange:
    """Upsert every affected id whose served article is a new object; remove those no file
    serves any more. Affected: the ids the touched files served before or serve now."""
    touched = [*scan.added, *scan.changed, *scan.removed]
    affected: set[str] = set()
    for path in touched:
        for entries in (before, scan.entries):
            entry = entries.get(path)
            if entry is not None and entry.served is not None:
                affected.add(entry.served.id)
    old, new = _served(before), _served(scan.entries)
    return KbChange(
        added=tuple(scan.added),
        changed=tuple(scan.changed),
        removed=tuple(scan.removed),
        upserted=tuple(new[i] for i in sorted(affected) if i in new and new[i] is not old.get(i)),
        removed_ids=tuple(i for i in sorted(affected) if i not in new),
        problems=tuple(scan.problems),
    )
