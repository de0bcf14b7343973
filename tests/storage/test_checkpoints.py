"""WAL checkpoints off the event loop: once deferred, commits leave the log to the
checkpointer, which copies all of it back (SQLite; PostgreSQL has nothing to defer)."""

from __future__ import annotations

from bot.storage.checkpoints import WalCheckpointer
from bot.storage.uow import Storage

PAGES_PER_COMMIT = 50  # ~200 KB a commit: 30 commits are well past SQLite's 1,000-page trigger


async def write(storage: Storage, commits: int = 30) -> None:
    for n in range(commits):
        async with storage.uow() as uow:
            await uow.settings.put(f"blob{n}", f"{n}" * (PAGES_PER_COMMIT * 4096))
            await uow.commit()


async def test_deferred_commits_leave_the_whole_log_to_the_checkpointer(
    sqlite_storage: Storage,
) -> None:
    checkpointer = sqlite_storage.defer_wal_checkpoints()
    assert checkpointer is not None
    await checkpointer.checkpoint()  # from an empty log
    await write(sqlite_storage)
    done = await checkpointer.checkpoint()
    assert not done.busy
    assert done.log_pages > 1_000 and done.copied_pages == done.log_pages
    again = await checkpointer.checkpoint()
    assert again.copied_pages == again.log_pages  # nothing left behind
    async with sqlite_storage.uow() as uow:
        assert await uow.settings.get("blob29") == "29" * (PAGES_PER_COMMIT * 4096)


async def test_without_deferring_the_commits_checkpoint_themselves(
    sqlite_storage: Storage,
) -> None:
    """The contrast: SQLite's own trigger keeps the log near 1,000 pages, inside the commits."""
    path = sqlite_storage.engine.url.database
    assert path is not None
    await write(sqlite_storage)
    done = await WalCheckpointer(path).checkpoint()
    assert done.log_pages < 1_000 + 2 * PAGES_PER_COMMIT


async def test_postgresql_has_no_checkpoints_to_defer(storage: Storage) -> None:
    checkpointer = storage.defer_wal_checkpoints()
    assert (checkpointer is None) == (storage.dialect == "postgresql")
