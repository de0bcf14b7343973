from __future__ import annotations

import pytest

from bot.domain.ports import UnitOfWork, UnitOfWorkFactory
from bot.storage.uow import Storage


async def _names(storage: Storage) -> list[str]:
    async with storage.uow() as uow:
        found = await uow.contacts.get_many(range(1, 10_000))
    return sorted(contact.display_name for contact in found.values())


async def test_commit_makes_changes_visible(storage: Storage) -> None:
    async with storage.uow() as uow:
        await uow.contacts.create("kept", None)
        await uow.commit()
    assert await _names(storage) == ["kept"]


async def test_leaving_without_commit_rolls_back(storage: Storage) -> None:
    async with storage.uow() as uow:
        await uow.contacts.create("dropped", None)
    assert await _names(storage) == []


async def test_an_exception_rolls_back_and_propagates(storage: Storage) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with storage.uow() as uow:
            await uow.contacts.create("dropped", None)
            await uow.settings.put("k", "v")
            raise RuntimeError("boom")
    assert await _names(storage) == []
    async with storage.uow() as uow:
        assert await uow.settings.get("k") is None


async def test_rollback_then_keep_working(storage: Storage) -> None:
    async with storage.uow() as uow:
        await uow.contacts.create("dropped", None)
        await uow.rollback()
        await uow.contacts.create("first", None)
        await uow.commit()
        await uow.contacts.create("second", None)
        await uow.commit()
        await uow.contacts.create("uncommitted", None)
    assert await _names(storage) == ["first", "second"]


async def test_an_uncommitted_change_is_not_seen_by_another_unit_of_work(
    storage: Storage,
) -> None:
    async with storage.uow() as writer:
        await writer.settings.put("k", "v")
        if storage.dialect == "sqlite":
            # SQLite units of work take turns in a process; nesting one would wait for itself.
            with pytest.raises(RuntimeError, match="inside another one"):
                async with storage.uow():
                    pass
        else:
            async with storage.uow() as reader:
                assert await reader.settings.get("k") is None
        await writer.commit()
    async with storage.uow() as reader:
        assert await reader.settings.get("k") == "v"


async def test_misuse_is_reported(storage: Storage) -> None:
    uow = storage.uow()
    with pytest.raises(RuntimeError, match="async with"):
        await uow.commit()
    async with uow:
        with pytest.raises(RuntimeError, match="already in use"):
            await uow.__aenter__()


async def test_storage_provides_the_ports(storage: Storage) -> None:
    factory: UnitOfWorkFactory = storage.uow_factory
    uow: UnitOfWork = factory()
    assert uow is not None
