from __future__ import annotations

from bot.storage.uow import Storage


async def test_get_put_upsert_delete(storage: Storage) -> None:
    async with storage.uow() as uow:
        assert await uow.settings.get("telegram.offset") is None
        await uow.settings.put("telegram.offset", "100")
        await uow.settings.put("telegram.offset", "101")
        await uow.settings.put("link:abc", "contact:1")
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.settings.get("telegram.offset") == "101"
        await uow.settings.delete("link:abc")
        await uow.settings.delete("never-set")
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.settings.get("link:abc") is None
        assert await uow.settings.get("telegram.offset") == "101"
