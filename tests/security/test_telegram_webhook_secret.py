"""Telegram webhook: only the configured secret token lets an update in; near misses do not."""

from __future__ import annotations

import json

import pytest

from bot.channels.telegram.receiver import TelegramReceiver
from bot.domain.clock import FakeClock
from bot.storage.uow import Storage

SECRET = "s3cret-Token_for-tests"
UPDATE = json.dumps(
    {
        "update_id": 1,
        "message": {
            "message_id": 5, "date": 1767600000, "text": "hi",
            "chat": {"id": 1009, "type": "private", "first_name": "Gil"},
            "from": {"id": 1009, "is_bot": False, "first_name": "Gil"},
        },
    }
).encode()  # fmt: skip
NEAR_MISSES = [
    None,  # no header at all
    "",
    "wrong",
    SECRET[:-1],  # one character short
    SECRET + "s",  # one character more
    SECRET[:-1] + "t",  # the last character changed
    "S" + SECRET[1:],  # the first character changed
    SECRET.upper(),
    f" {SECRET} ",  # padded
    SECRET * 2,
    SECRET.replace("e", "\u0435"),  # a Cyrillic look-alike
]


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def _stored(storage: Storage) -> int:
    async with storage.uow() as uow:
        return len(await uow.inbound.claim_pending(100))


@pytest.mark.parametrize("given", NEAR_MISSES)
async def test_a_missing_wrong_or_nearly_right_secret_is_refused(
    sqlite_storage: Storage, given: str | None
) -> None:
    wakes = Wakes()
    receiver = TelegramReceiver(sqlite_storage.uow, FakeClock(), wakes, webhook_secret=SECRET)
    answer = await receiver.receive_webhook(given, UPDATE)
    assert (answer.status, answer.text) == (401, "wrong or missing secret token")
    assert await _stored(sqlite_storage) == 0 and wakes.count == 0


async def test_without_a_configured_secret_no_webhook_is_accepted(sqlite_storage: Storage) -> None:
    receiver = TelegramReceiver(sqlite_storage.uow, FakeClock(), Wakes())
    for given in (None, "", SECRET):
        assert (await receiver.receive_webhook(given, UPDATE)).status == 401
    assert await _stored(sqlite_storage) == 0


async def test_the_right_secret_lets_the_update_in_once(sqlite_storage: Storage) -> None:
    wakes = Wakes()
    receiver = TelegramReceiver(sqlite_storage.uow, FakeClock(), wakes, webhook_secret=SECRET)
    answers = [await receiver.receive_webhook(SECRET, UPDATE) for _ in range(3)]
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert await _stored(sqlite_storage) == 1  # Telegram's retries are one update
