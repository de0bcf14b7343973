from __future__ import annotations

from bot.domain.clock import FakeClock
from bot.domain.model import Channel, InboundStatus
from bot.storage.uow import Storage


async def test_add_and_duplicates(storage: Storage, clock: FakeClock) -> None:
    payload = {"update_id": 7, "message": {"text": "héllo", "chat": {"id": 42}}}
    async with storage.uow() as uow:
        stored = await uow.inbound.add(Channel.TELEGRAM, "7", payload, clock.now())
        again = await uow.inbound.add(Channel.TELEGRAM, "7", {"other": True}, clock.now())
        # The same key on another channel is another update.
        webchat = await uow.inbound.add(Channel.WEBCHAT, "7", {}, clock.now())
        await uow.commit()
    assert again is None
    assert stored is not None and webchat is not None
    assert (stored.channel, stored.external_key, stored.payload) == (Channel.TELEGRAM, "7", payload)
    assert stored.status is InboundStatus.PENDING
    assert (stored.received_at, stored.error) == (clock.now(), None)
    async with storage.uow() as uow:
        assert await uow.inbound.add(Channel.TELEGRAM, "7", payload, clock.now()) is None
        claimed = await uow.inbound.claim_pending(10)
    assert claimed == [stored, webchat]


async def test_claim_pending_oldest_first_and_mark(storage: Storage, clock: FakeClock) -> None:
    async with storage.uow() as uow:
        for key in ("3", "1", "2"):
            clock.advance(1)
            await uow.inbound.add(Channel.TELEGRAM, key, {"key": key}, clock.now())
        await uow.commit()
    async with storage.uow() as uow:
        first_two = await uow.inbound.claim_pending(2)
        assert [update.external_key for update in first_two] == ["3", "1"]
        assert await uow.inbound.claim_pending(0) == []
        await uow.inbound.mark(first_two[0].id, True, None, clock.now())
        await uow.inbound.mark(first_two[1].id, False, "boom", clock.now())
        await uow.commit()
    async with storage.uow() as uow:
        rest = await uow.inbound.claim_pending(10)
    assert [update.external_key for update in rest] == ["2"]


async def test_claimed_rows_stay_pending_until_marked(storage: Storage, clock: FakeClock) -> None:
    async with storage.uow() as uow:
        await uow.inbound.add(Channel.TELEGRAM, "1", {}, clock.now())
        await uow.commit()
    async with storage.uow() as uow:
        [claimed] = await uow.inbound.claim_pending(10)
        # No commit: the worker died before marking; the update is processed again later.
    async with storage.uow() as uow:
        [again] = await uow.inbound.claim_pending(10)
    assert again == claimed
    assert again.status is InboundStatus.PENDING
