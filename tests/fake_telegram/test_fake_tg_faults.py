"""Injected faults as the real aiogram client sees them, and random faults for load tests."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.fake_telegram import FakeTelegramServer, FakeUser, Fault

TOKEN = "123:ABC"  # the fixtures in conftest.py register these
ANN_ID = 1001


async def test_retry_after(server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser) -> None:
    server.inject_fault("sendMessage", Fault.retry_after(5), times=2, chat_id=ANN_ID)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await aiogram_bot.send_message(ANN_ID, "hi")
        assert caught.value.retry_after == 5
    await aiogram_bot.send_message(ANN_ID, "hi")
    assert [c.status for c in server.calls("sendMessage")] == [429, 429, 200]
    assert server.calls("sendMessage")[0].fault == "retry_after"
    assert len(server.sent_messages(TOKEN)) == 1


async def test_blocked_bad_request_and_server_errors(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    server.inject_fault("sendMessage", Fault.blocked())
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aiogram_bot.send_message(ANN_ID, "hi")
    server.inject_fault("sendMessage", Fault.bad_request("PEER_ID_INVALID"))
    with pytest.raises(TelegramBadRequest, match="Bad Request: PEER_ID_INVALID"):
        await aiogram_bot.send_message(ANN_ID, "hi")
    for status in (500, 502):
        server.inject_fault("sendMessage", Fault.server_error(status))
        with pytest.raises(TelegramServerError):
            await aiogram_bot.send_message(ANN_ID, "hi")
    assert server.sent_messages(TOKEN) == []
    assert server.stats(TOKEN)["sendMessage"] == {"400": 1, "403": 1, "500": 1, "502": 1}


async def test_faults_match_only_their_method_and_chat(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    bob = server.add_user(1002, "Bob")
    await server.send_text(TOKEN, bob, "hey")
    server.inject_fault("sendMessage", Fault.blocked(), times=None, chat_id=bob.id)
    await aiogram_bot.get_me()
    await aiogram_bot.send_message(ANN_ID, "fine")
    for _ in range(3):
        with pytest.raises(TelegramForbiddenError):
            await aiogram_bot.send_message(bob.id, "nope")
    server.clear_faults()
    await aiogram_bot.send_message(bob.id, "now fine")
    assert [m.text for m in server.sent_messages(TOKEN)] == ["fine", "now fine"]


async def test_blocked_user_gets_my_chat_member_and_403(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    update = await server.set_blocked(TOKEN, ann, blocked=True)
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aiogram_bot.send_message(ANN_ID, "hi")
    with pytest.raises(RuntimeError, match="blocked the bot"):
        await server.send_text(TOKEN, ann, "can't write while blocking")


async def test_drop_after_read_records_the_message_but_never_answers(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    server.inject_fault("sendMessage", Fault.drop_after_read(), chat_id=ANN_ID)
    with pytest.raises(TelegramNetworkError):
        await aiogram_bot.send_message(ANN_ID, "maybe delivered")
    [sent] = server.sent_messages(TOKEN, ANN_ID)
    assert sent.text == "maybe delivered"
    assert server.calls("sendMessage")[-1].status == 0
    await aiogram_bot.send_message(ANN_ID, "the connection pool recovers")


async def test_slow_answer_times_the_client_out_but_is_processed(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    server.inject_fault("sendMessage", Fault.slow(0.5))
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await aiogram_bot.send_message(ANN_ID, "late", request_timeout=0.1)  # type: ignore[arg-type]
    [sent] = await server.wait_for_messages(TOKEN, 1, timeout=5)
    assert sent.text == "late"


async def test_random_faults_are_reproducible(
    server: FakeTelegramServer, aiogram_bot: Bot, ann: FakeUser
) -> None:
    async def run() -> list[int]:
        server.reset()
        server.set_random_faults(retry_after=0.2, server_error=0.2, seed=7)
        for i in range(30):
            with contextlib.suppress(TelegramRetryAfter, TelegramServerError):
                await aiogram_bot.send_message(ANN_ID, f"m{i}")
        server.set_random_faults()
        return [c.status for c in server.calls("sendMessage")]

    first = await run()
    assert first == await run()
    assert {200, 429, 500} <= set(first)
    assert len(server.sent_messages(TOKEN)) == first.count(200)


async def test_max_sends_in_window(server: FakeTelegramServer, aiogram_bot: Bot) -> None:
    users = [server.add_user(2000 + i, f"U{i}") for i in range(3)]
    for user in users:
        await server.send_text(TOKEN, user, "hi")
    await asyncio.gather(*(aiogram_bot.send_message(u.id, "burst") for u in users * 2))
    assert server.max_sends_in_window(TOKEN, 60.0) == 6
    assert server.max_sends_in_window(TOKEN, 60.0, chat_id=2000) == 2
    assert server.max_sends_in_window(TOKEN, 60.0, chat_id=9999) == 0


async def test_wait_for_messages_times_out_helpfully(server: FakeTelegramServer) -> None:
    with pytest.raises(TimeoutError, match=r"expected 1 message\(s\) from @nudge_bot to chat 7"):
        await server.wait_for_messages(TOKEN, 1, chat_id=7, timeout=0.05)
