"""The watcher: add, change, remove and rename articles, driven by `scan()` (no sleeping)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.knowledge.watch import RACY_WINDOW_NS, KbChange, KbWatcher


def article(id: str, answer: str = "The answer.", lang: str = "en") -> str:
    return (
        f"---\nid: {id}\ntitle: About {id}\nlang: {lang}\nquestions:\n  - ask {id}\n---\n{answer}\n"
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def move(source: Path, target: Path) -> Path:
    return source.rename(target)


class Recorder:
    def __init__(self) -> None:
        self.changes: list[KbChange] = []

    def __call__(self, change: KbChange) -> None:
        self.changes.append(change)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path / "en" / "a.md", article("a"))
    write(tmp_path / "en" / "b.md", article("b"))
    return tmp_path


async def test_the_first_scan_adds_every_article(root: Path) -> None:
    recorder = Recorder()
    watcher = KbWatcher(root, recorder)

    change = await watcher.scan()

    assert change.added == (root / "en" / "a.md", root / "en" / "b.md")
    assert change.upserted_ids == ("a", "b")
    assert change.removed_ids == () and change.problems == ()
    assert recorder.changes == [change]
    assert set(watcher.documents) == {"a", "b"}


async def test_nothing_changed_means_no_callback(root: Path) -> None:
    recorder = Recorder()
    watcher = KbWatcher(root, recorder)
    await watcher.scan()

    change = await watcher.scan()

    assert change.is_empty and change.upserted == ()
    assert len(recorder.changes) == 1


async def test_an_added_file(root: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    path = write(root / "ru" / "c.md", article("c", lang="ru"))

    change = await watcher.scan()

    assert change.added == (path,) and change.changed == () and change.removed == ()
    assert change.upserted_ids == ("c",)


async def test_a_changed_file_is_reloaded_alone(root: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    path = write(root / "en" / "a.md", article("a", "A new, longer answer."))

    change = await watcher.scan()

    assert change.changed == (path,)
    assert [document.body_markdown for document in change.upserted] == ["A new, longer answer."]
    assert watcher.documents["a"].body_markdown == "A new, longer answer."


async def test_a_removed_file_removes_its_article(root: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    (root / "en" / "b.md").unlink()

    change = await watcher.scan()

    assert change.removed == (root / "en" / "b.md",)
    assert change.removed_ids == ("b",) and change.upserted == ()
    assert set(watcher.documents) == {"a"}


async def test_an_id_changed_in_place_is_an_upsert_and_a_removal(root: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    write(root / "en" / "b.md", article("b-renamed"))

    change = await watcher.scan()

    assert change.upserted_ids == ("b-renamed",)
    assert change.removed_ids == ("b",)


async def test_a_broken_edit_keeps_the_last_good_version_until_fixed(root: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    path = write(root / "en" / "a.md", "---\nid: a\ntitle: [broken\n---\nbody\n")

    broken = await watcher.scan()

    assert broken.changed == (path,)
    assert broken.upserted == () and broken.removed_ids == ()
    assert broken.problems and broken.problems[0].path == path
    assert watcher.documents["a"].body_markdown == "The answer."
    assert watcher.snapshot().problems == broken.problems

    write(path, article("a", "Fixed."))
    fixed = await watcher.scan()

    assert fixed.upserted_ids == ("a",) and fixed.problems == ()
    assert watcher.documents["a"].body_markdown == "Fixed."
    assert watcher.snapshot().problems == ()


async def test_a_broken_new_file_adds_nothing(root: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    write(root / "en" / "c.md", "no front matter")

    change = await watcher.scan()

    assert change.added == (root / "en" / "c.md",)
    assert change.upserted == () and len(change.problems) == 1


async def test_a_touch_without_edits_reloads_nothing(root: Path) -> None:
    recorder = Recorder()
    watcher = KbWatcher(root, recorder)
    await watcher.scan()
    path = root / "en" / "a.md"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

    change = await watcher.scan()

    assert change.is_empty and len(recorder.changes) == 1


async def test_an_edit_that_keeps_size_and_mtime_is_still_seen(root: Path) -> None:
    """Two saves within one timestamp tick: the stamp alone cannot tell them apart."""
    clock = [0]
    watcher = KbWatcher(root, now_ns=lambda: clock[0])
    path = root / "en" / "a.md"
    stat = path.stat()
    clock[0] = stat.st_mtime_ns  # read in the same tick as the save
    await watcher.scan()

    path.write_text(article("a", "The ANSWER."), encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime
    assert path.stat().st_size == stat.st_size
    change = await watcher.scan()

    assert change.changed == (path,) and change.upserted_ids == ("a",)

    clock[0] = stat.st_mtime_ns + RACY_WINDOW_NS + 1  # long after: the stamp is trusted again
    await watcher.scan()
    path.write_text(article("a", "the answer."), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (await watcher.scan()).is_empty


async def test_a_repeated_id_falls_back_to_the_other_file(root: Path) -> None:
    watcher = KbWatcher(root)
    write(root / "en" / "c.md", article("a", "The copy."))
    await watcher.scan()
    assert watcher.documents["a"].path == root / "en" / "a.md"

    (root / "en" / "a.md").unlink()
    change = await watcher.scan()

    assert change.removed_ids == ()
    assert [document.path for document in change.upserted] == [root / "en" / "c.md"]


async def test_an_async_callback_is_awaited(root: Path) -> None:
    seen: list[tuple[str, ...]] = []

    async def on_change(change: KbChange) -> None:
        await asyncio.sleep(0)
        seen.append(change.upserted_ids)

    await KbWatcher(root, on_change).scan()

    assert seen == [("a", "b")]


async def test_a_failed_callback_gets_the_change_again(root: Path) -> None:
    calls: list[KbChange] = []

    def on_change(change: KbChange) -> None:
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("index unavailable")

    watcher = KbWatcher(root, on_change)
    with pytest.raises(RuntimeError):
        await watcher.scan()
    again = await watcher.scan()

    assert again.upserted_ids == ("a", "b")
    assert len(calls) == 2


async def test_a_vanished_folder_keeps_the_articles(root: Path, tmp_path: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    moved = move(root, tmp_path.parent / f"{tmp_path.name}-moved")

    change = await watcher.scan()

    assert change.is_empty and change.removed_ids == ()
    assert "not found" in change.problems[0].message
    assert set(watcher.documents) == {"a", "b"}
    move(moved, root)


async def test_hidden_and_other_files_are_not_watched(root: Path) -> None:
    watcher = KbWatcher(root)
    await watcher.scan()
    write(root / "en" / ".a.md.swp", "editor junk")
    write(root / "en" / "notes.txt", "notes")

    assert (await watcher.scan()).is_empty


async def test_run_scans_until_cancelled(root: Path) -> None:
    loaded, added = asyncio.Event(), asyncio.Event()

    def on_change(change: KbChange) -> None:
        (added if "c" in change.upserted_ids else loaded).set()

    watcher = KbWatcher(root, on_change)
    task = asyncio.create_task(watcher.run(interval=0.01))
    try:
        await asyncio.wait_for(loaded.wait(), timeout=10)
        write(root / "en" / "c.md", article("c"))
        await asyncio.wait_for(added.wait(), timeout=10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_run_survives_a_failing_callback(root: Path) -> None:
    calls: list[KbChange] = []
    retried = asyncio.Event()

    def on_change(change: KbChange) -> None:
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("index unavailable")
        retried.set()

    task = asyncio.create_task(KbWatcher(root, on_change).run(interval=0.01))
    try:
        await asyncio.wait_for(retried.wait(), timeout=10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert calls[1].upserted_ids == ("a", "b")
