"""The Telegram receiver: updates are stored before they are acknowledged, whatever arrives."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram.client import build_bot
from bot.channels.telegram.receiver import OFFSET_KEY, TelegramReceiver
from bot.domain.clock import FakeClock
from bot.domain.model import Channel
from bot.domain.ports import UnitOfWork
from bot.fake_telegram import FakeTelegramServer
from bot.storage.uow import Storage

SECRET = "right-secret"
TOKEN = "42:RECEIVER"


class FailingOnce:
    """A unit-of-work factory whose first unit of work fails on commit (database trouble)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self.failures = 1

    def __call__(self) -> UnitOfWork:
        uow = self._storage.uow()
        real_commit = uow.commit

        async def commit() -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("database went away")
            await real_commit()

        uow.commit = commit  # type: ignore[method-assign]
        return uow


async def stored(storage: Storage) -> list[Any]:
    async with storage.uow() as uow:
        return await uow.inbound.claim_pending(1000)


async def test_polling_refetches_a_batch_that_could_not_be_stored(sqlite_storage, clock) -> None:
    async with FakeTelegramServer() as fake:
        fake.add_bot(TOKEN)
        user = fake.add_user(user_id=5, first_name="Al")
        bot = build_bot(TOKEN, fake.base_url, 10)
        woke = asyncio.Event()
        factory = FailingOnce(sqlite_storage)
        receiver = TelegramReceiver(factory, clock, woke.set, bot=bot)
        task = asyncio.create_task(receiver.poll_forever(poll_seconds=1, retry_delay=0))
        try:
            await fake.send_text(TOKEN, user, "hello")
            await asyncio.wait_for(woke.wait(), 10)
            await fake.wait_for_updates_confirmed(TOKEN, 1)
        finally:
            task.cancel()
            await bot.session.close()
    assert factory.failures == 0  # the first attempt to store really failed
    rows = await stored(sqlite_storage)
    assert [r.payload["message"]["text"] for r in rows] == ["hello"]
    async with sqlite_storage.uow() as uow:
        assert await uow.settings.get(OFFSET_KEY) == str(rows[0].payload["update_id"] + 1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
update_like = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=1, max_value=2**40)},
    optional={"message": json_values, "callback_query": json_values, "my_chat_member": json_values},
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(update_like.map(json.dumps), json_values.map(json.dumps), st.binary(max_size=64))
)
async def test_any_body_is_stored_whole_or_refused_with_400(sqlite_storage, body) -> None:
    raw = body if isinstance(body, bytes) else body.encode()
    receiver = TelegramReceiver(
        sqlite_storage.uow, FakeClock(), lambda: None, webhook_secret=SECRET
    )
    async with sqlite_storage.uow() as uow:
        before = len(await uow.inbound.claim_pending(10_000))
    answer = await receiver.receive_webhook(SECRET, raw)
    async with sqlite_storage.uow() as uow:
        after = len(await uow.inbound.claim_pending(10_000))
    assert answer.status in (200, 400)
    if answer.status == 400:
        assert after == before
        assert answer.text.startswith("malformed update")


async def test_wrong_secret_is_refused_before_anything_is_read(sqlite_storage) -> None:
    receiver = TelegramReceiver(
        sqlite_storage.uow, FakeClock(), lambda: None, webhook_secret=SECRET
    )
    for given_secret in (None, "", "right-secre", "right-secret ", "RIGHT-SECRET"):
        answer = await receiver.receive_webhook(given_secret, b'{"update_id": 1}')
        assert answer.status == 401
    without_secret = TelegramReceiver(sqlite_storage.uow, FakeClock(), lambda: None)
    assert (await without_secret.receive_webhook(None, b'{"update_id": 1}')).status == 401
    assert await stored(sqlite_storage) == []
    assert Channel.TELEGRAM  # the channel under test
