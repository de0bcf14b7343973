"""Telegram end to end: the real aiogram client against the fake Bot API server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot.domain.model import Channel, OutboundDraft, OutboundKind, OutboxStatus
from bot.fake_telegram import Fault
from bot.process import Nudge
from bot.storage import tables
from tests.e2e.conftest import TOKEN, WEBHOOK_SECRET, Harness, let_time_pass, settle

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def table_rows(app: Nudge, table: sa.Table) -> list[dict[str, Any]]:
    async with app.storage.engine.connect() as conn:
        result = await conn.execute(sa.select(table).order_by(table.c.id))
        return [dict(row._mapping) for row in result]


async def contact_of(app: Nudge, user_id: int) -> Any:
    async with app.storage.uow() as uow:
        identity = await uow.identities.find(Channel.TELEGRAM, str(user_id))
        assert identity is not None
        return await uow.contacts.get(identity.contact_id)


async def enqueue(app: Nudge, contact_id: int, chat_id: int, text: str, kind: OutboundKind) -> None:
    async with app.storage.uow() as uow:
        draft = OutboundDraft(
            key=f"test:{text[:20]}:{kind}",
            contact_id=contact_id,
            channel=Channel.TELEGRAM,
            address=str(chat_id),
            text=text,
            kind=kind,
        )
        await app.outbox.enqueue(uow, draft, app.clock.now())
        await uow.commit()
    app.outbox_pump.wake()


async def test_start_with_deep_link_greets_and_stores_the_payload(harness: Harness) -> None:
    app = await harness.start()
    user = harness.fake.add_user(user_id=1001, first_name="Ann", language_code="en")

    await harness.fake.send_text(TOKEN, user, "/start promo42")
    [reply] = await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1001)

    assert reply.plain_text.startswith("Hi Ann!")
    contact = await contact_of(app, 1001)
    assert contact.start_payload == "promo42"
    assert contact.language == "en"


async def test_text_message_gets_a_reply_and_everything_is_stored(harness: Harness) -> None:
    app = await harness.start()
    user = harness.fake.add_user(user_id=1002, first_name="Иван", language_code="ru")

    await harness.fake.send_text(TOKEN, user, "Где мой заказ?")
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1002)
    await let_time_pass(app, harness.clock)
    article, did_it_help = harness.fake.sent_messages(TOKEN, chat_id=1002)

    assert "Отслеживание" in article.plain_text or "заказ" in article.plain_text.lower()
    assert did_it_help.plain_text == "Это помогло?"  # answered in the customer's language
    messages = await table_rows(app, tables.messages)
    assert [(m["direction"], m["sender"]) for m in messages] == [
        ("in", "customer"),
        ("out", "bot"),
        ("out", "bot"),
    ]
    assert messages[0]["text"] == "Где мой заказ?"
    rows = await table_rows(app, tables.outbox)
    assert [r["status"] for r in rows] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert rows[0]["channel_message_id"] == str(article.message_id)
    assert messages[1]["channel_message_id"] == str(article.message_id)


async def test_stop_opts_out_and_suppresses_marketing_but_not_replies(harness: Harness) -> None:
    app = await harness.start()
    user = harness.fake.add_user(user_id=1003, first_name="Bo")
    await harness.fake.send_text(TOKEN, user, "/stop")
    [stopped] = await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1003)
    assert "will not receive offers" in stopped.plain_text
    contact = await contact_of(app, 1003)
    assert contact.opted_out

    await enqueue(app, contact.id, 1003, "Big sale today!", OutboundKind.FUNNEL)
    await settle(app)

    rows = {r["text"]: r for r in await table_rows(app, tables.outbox)}
    assert rows["Big sale today!"]["status"] == OutboxStatus.SUPPRESSED
    assert rows["Big sale today!"]["reason"] == "contact opted out of marketing messages"
    assert len(harness.fake.sent_messages(TOKEN, chat_id=1003)) == 1

    await settle(app)  # the reply's answer is in before the clock moves on
    harness.clock.advance(timedelta(seconds=1))  # Telegram's 1 message/s per chat
    await harness.fake.send_text(TOKEN, user, "/start")
    messages = await harness.fake.wait_for_messages(TOKEN, 2, chat_id=1003)
    assert messages[-1].plain_text.startswith("Welcome back")
    assert not (await contact_of(app, 1003)).opted_out


async def test_blocked_user_403_marks_contact_and_suppresses_pending(harness: Harness) -> None:
    app = await harness.start()
    user = harness.fake.add_user(user_id=1004, first_name="Cy")
    await harness.fake.send_text(TOKEN, user, "hello")
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1004)
    contact = await contact_of(app, 1004)
    await settle(app)
    harness.clock.advance(timedelta(seconds=1))
    harness.fake.inject_fault("sendMessage", Fault.blocked(), times=1, chat_id=1004)
    await enqueue(app, contact.id, 1004, "first", OutboundKind.REPLY)
    await enqueue(app, contact.id, 1004, "second", OutboundKind.REPLY)
    await settle(app)

    rows = {r["text"]: r for r in await table_rows(app, tables.outbox)}
    assert rows["first"]["status"] == OutboxStatus.FAILED
    assert "403" in rows["first"]["reason"]
    assert rows["second"]["status"] == OutboxStatus.SUPPRESSED
    assert rows["second"]["reason"] == "contact blocked the bot"
    assert (await contact_of(app, 1004)).blocked
    assert len(harness.fake.sent_messages(TOKEN, chat_id=1004)) == 1


async def test_my_chat_member_marks_blocked_and_reachable(harness: Harness) -> None:
    app = await harness.start()
    user = harness.fake.add_user(user_id=1005, first_name="Di")
    await harness.fake.send_text(TOKEN, user, "hi")
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1005)

    await harness.fake.set_blocked(TOKEN, user, blocked=True)
    await _wait_processed(app, harness, 2)
    assert (await contact_of(app, 1005)).blocked

    await harness.fake.set_blocked(TOKEN, user, blocked=False)
    await _wait_processed(app, harness, 3)
    assert not (await contact_of(app, 1005)).blocked


async def _wait_processed(app: Nudge, harness: Harness, count: int) -> None:
    """Wait until the poller stored `count` updates and the inbox processed them."""
    await harness.fake.wait_for_updates_confirmed(TOKEN, count)
    await settle(app)
    statuses = [r["status"] for r in await table_rows(app, tables.inbound_updates)]
    assert statuses == ["processed"] * count


async def test_429_waits_retry_after_and_sends_once(harness: Harness) -> None:
    app = await harness.start()
    user = harness.fake.add_user(user_id=1006, first_name="Ed")
    harness.fake.inject_fault("sendMessage", Fault.retry_after(7), times=1, chat_id=1006)

    await harness.fake.send_text(TOKEN, user, "hello")
    await harness.fake.wait_for_updates_confirmed(TOKEN, 1)
    await settle(app)
    [row] = await table_rows(app, tables.outbox)
    assert row["status"] == OutboxStatus.PENDING
    assert row["attempts"] == 1
    assert "429" in row["reason"]
    assert harness.fake.sent_messages(TOKEN, chat_id=1006) == []

    harness.clock.advance(timedelta(seconds=6))
    await settle(app)
    assert harness.fake.sent_messages(TOKEN, chat_id=1006) == []  # still inside retry_after

    harness.clock.advance(timedelta(seconds=1))
    await settle(app)
    [sent] = harness.fake.sent_messages(TOKEN, chat_id=1006)
    [row] = await table_rows(app, tables.outbox)
    assert row["status"] == OutboxStatus.SENT
    assert row["channel_message_id"] == str(sent.message_id)


async def test_long_reply_is_split_in_order_within_telegram_limit(harness: Harness) -> None:
    app = await harness.start()
    user = harness.fake.add_user(user_id=1007, first_name="Fa")
    await harness.fake.send_text(TOKEN, user, "hi")
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1007)
    contact = await contact_of(app, 1007)
    await settle(app)
    harness.clock.advance(timedelta(seconds=1))
    paragraphs = [f"Paragraph {i}. " + "word " * 150 for i in range(30)]

    await enqueue(app, contact.id, 1007, "\n\n".join(paragraphs), OutboundKind.REPLY)
    for _ in range(6):  # one message per second per chat: move the clock along
        await settle(app)
        harness.clock.advance(timedelta(seconds=1))
    parts = harness.fake.sent_messages(TOKEN, chat_id=1007)[1:]

    assert len(parts) >= 2
    assert all(len(p.plain_text) <= 4096 for p in parts)
    assert parts[0].plain_text.startswith("Paragraph 0.")
    joined = "\n\n".join(p.plain_text for p in parts)
    assert [line.split(".")[0] for line in joined.split("\n\n")] == [
        f"Paragraph {i}" for i in range(30)
    ]


async def test_customer_name_cannot_inject_markup(harness: Harness) -> None:
    await harness.start()
    user = harness.fake.add_user(user_id=1008, first_name="<b>Bob</b> & <i>", last_name="</a>")
    await harness.fake.send_text(TOKEN, user, "/start")
    [reply] = await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1008)
    assert reply.parse_mode == "HTML"
    assert reply.plain_text.startswith("Hi <b>Bob</b> & <i> </a>!")


async def test_webhook_secret_duplicates_and_malformed_updates(harness: Harness) -> None:
    app = await harness.start(mode="webhook")
    url = f"{app.base_url}/telegram/webhook"
    user = harness.fake.add_user(user_id=1009, first_name="Gil")
    update = {
        "update_id": 777001,
        "message": {
            "message_id": 5,
            "date": 1767600000,
            "chat": {"id": 1009, "type": "private", "first_name": "Gil"},
            "from": {"id": 1009, "is_bot": False, "first_name": "Gil"},
            "text": "hello",
        },
    }
    harness.fake.register_chat_for(TOKEN, user)
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: WEBHOOK_SECRET[:-1]}):
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 401
        assert await table_rows(app, tables.inbound_updates) == []

        good = {SECRET_HEADER: WEBHOOK_SECRET}
        for body in (
            b"{not json",
            b"[1, 2]",
            b'{"update_id": "x"}',
            b'{"update_id": 1, "message": 5}',
        ):
            async with http.post(url, data=body, headers=good) as resp:
                assert resp.status == 400
        assert await table_rows(app, tables.inbound_updates) == []

        for _ in range(3):
            async with http.post(url, json=update, headers=good) as resp:
                assert resp.status == 200
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1009)
    await settle(app)

    assert len(await table_rows(app, tables.inbound_updates)) == 1
    assert len(await table_rows(app, tables.outbox)) == 1
    assert len(harness.fake.sent_messages(TOKEN, chat_id=1009)) == 1


async def test_webhook_mode_receives_updates_pushed_by_telegram(harness: Harness) -> None:
    await harness.start(mode="webhook")
    user = harness.fake.add_user(user_id=1010, first_name="Hu")
    await harness.fake.send_text(TOKEN, user, "/help")
    [reply] = await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1010)
    assert "What I can do" in reply.plain_text


async def test_restart_mid_way_loses_nothing_and_repeats_nothing(harness: Harness) -> None:
    # 1. A web-only process stores the update and acknowledges it, then stops before any work.
    web_only = await harness.start(mode="webhook", role="web")
    user = harness.fake.add_user(user_id=1011, first_name="Ivy")
    await harness.fake.send_text(TOKEN, user, "hello?")
    await harness.fake.wait_for_webhook_deliveries(TOKEN, 1)
    await harness.stop(web_only)
    assert harness.fake.sent_messages(TOKEN, chat_id=1011) == []

    # 2. A new process picks the stored update up and answers it exactly once.
    app = await harness.start(mode="webhook")
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=1011)
    await settle(app)
    await harness.stop(app)

    # 3. A send in flight when the process dies is recorded as outcome unknown, never resent.
    app = await harness.start(mode="webhook")
    contact = await contact_of(app, 1011)
    harness.clock.advance(timedelta(seconds=1))
    harness.fake.inject_fault("sendMessage", Fault.drop_after_read(), times=1, chat_id=1011)
    await enqueue(app, contact.id, 1011, "maybe delivered", OutboundKind.REPLY)
    await settle(app)
    await harness.stop(app)
    app = await harness.start(mode="webhook")
    await settle(app)

    rows = {r["text"]: r for r in await table_rows(app, tables.outbox)}
    assert rows["maybe delivered"]["status"] == OutboxStatus.UNKNOWN
    texts = [m.text for m in harness.fake.sent_messages(TOKEN, chat_id=1011)]
    assert texts.count("maybe delivered") == 1
    assert len(texts) == 2
