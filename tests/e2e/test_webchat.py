"""Web chat end to end: the widget's socket protocol through the real app, and a visitor who
continues in Telegram with the history following them."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.domain.model import Channel
from tests.e2e.conftest import TOKEN, Harness, settle


async def next_frame(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return dict(frame)


async def test_visitor_chats_on_the_site_then_continues_in_telegram(harness: Harness) -> None:
    app = await harness.start()
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{app.base_url}/webchat/ws", origin=app.base_url)
        await ws.send_json({"type": "hello", "visitor_token": None, "language": "ru"})
        token = (await next_frame(ws, "welcome"))["visitor_token"]
        await ws.send_json({"type": "message", "client_id": "c1", "text": "Есть доставка?"})
        assert (await next_frame(ws, "ack"))["duplicate"] is False
        reply = await next_frame(ws, "message")
        assert "доставк" in reply["html"].lower()  # the visitor's language, from the widget
        assert (await next_frame(ws, "message"))["html"] == "Это помогло?"

        await ws.send_json({"type": "link_telegram"})
        link = (await next_frame(ws, "telegram_link"))["url"]
        assert link.startswith("https://t.me/nudge_test_bot?start=w_")
        await ws.close()

    user = harness.fake.add_user(user_id=2001, first_name="Olga", language_code="ru")
    await harness.fake.send_text(TOKEN, user, "/start " + link.split("start=", 1)[1])
    [linked] = await harness.fake.wait_for_messages(TOKEN, 1, chat_id=2001)
    assert "подключён" in linked.plain_text
    await settle(app)

    async with app.storage.uow() as uow:
        tg = await uow.identities.find(Channel.TELEGRAM, "2001")
        web = await uow.identities.find(Channel.WEBCHAT, token)
        assert tg is not None and web is not None
        assert tg.contact_id == web.contact_id
        history = [m.text for m in await uow.messages.history(tg.contact_id)]
    assert history[0] == "Есть доставка?"
    assert len(history) == 5  # question, answer, "did this help?", /start, "connected"

    async with aiohttp.ClientSession() as http:  # back on the site: the whole story is there
        ws = await http.ws_connect(f"{app.base_url}/webchat/ws", origin=app.base_url)
        await ws.send_json({"type": "hello", "visitor_token": token, "language": "ru"})
        welcome = await next_frame(ws, "welcome")
        await ws.close()
    assert len(welcome["history"]) == 5


async def test_paid_broadcast_is_asked_for_marketing_only(harness: Harness) -> None:
    from bot.domain.model import OutboundKind
    from tests.e2e.test_telegram import contact_of, enqueue

    app = await harness.start(NUDGE_DELIVERY__PAID_BROADCAST="true")
    user = harness.fake.add_user(user_id=2002, first_name="Pat")
    await harness.fake.send_text(TOKEN, user, "hi")
    await harness.fake.wait_for_messages(TOKEN, 1, chat_id=2002)
    await settle(app)
    harness.clock.advance(1)
    contact = await contact_of(app, 2002)
    await enqueue(app, contact.id, 2002, "Weekend sale", OutboundKind.BROADCAST)
    await harness.fake.wait_for_messages(TOKEN, 2, chat_id=2002)

    sends = [c.params for c in harness.fake.calls("sendMessage")]
    assert [bool(p.get("allow_paid_broadcast")) for p in sends] == [False, True]
