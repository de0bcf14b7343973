"""End to end on the web chat: a visitor chats through the widget's socket, asks for a Telegram
link (a pending link code), then is forgotten. Their token opens nothing any more, and a dump
holds neither the token nor their words."""

from __future__ import annotations

import aiohttp

from bot.domain.model import Channel
from bot.privacy import PrivacyService, parse_person_ref
from tests.e2e.conftest import Harness, fake_telegram, harness, settle
from tests.e2e.test_webchat import next_frame
from tests.privacy.world import dump_database

__all__ = ["fake_telegram", "harness"]  # the e2e fixtures, used by name

QUESTION = "Do you deliver to Xanthiopolis street 14?"


async def test_a_web_chat_visitor_is_forgotten(harness: Harness) -> None:
    app = await harness.start()
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{app.base_url}/webchat/ws", origin=app.base_url)
        await ws.send_json({"type": "hello", "visitor_token": None, "language": "en"})
        token = (await next_frame(ws, "welcome"))["visitor_token"]
        await ws.send_json({"type": "message", "client_id": "c1", "text": QUESTION})
        await next_frame(ws, "message")
        await ws.send_json({"type": "link_telegram"})
        link = (await next_frame(ws, "telegram_link"))["url"]
        await ws.close()
    await settle(app)
    code = link.split("start=w_", 1)[1]
    before = await dump_database(harness.db_url)
    assert token in before and QUESTION in before and code in before

    async with app.storage.uow() as uow:
        identity = await uow.identities.find(Channel.WEBCHAT, token)
        assert identity is not None
    await PrivacyService(app.storage.uow, app.clock).forget(
        parse_person_ref(str(identity.contact_id)), "dpo"
    )

    after = await dump_database(harness.db_url)
    assert token not in after and QUESTION not in after and code not in after
    async with aiohttp.ClientSession() as http:  # the old token now opens an empty chat
        ws = await http.ws_connect(f"{app.base_url}/webchat/ws", origin=app.base_url)
        await ws.send_json({"type": "hello", "visitor_token": token, "language": "en"})
        welcome = await next_frame(ws, "welcome")
        await ws.close()
    assert welcome["history"] == [] and welcome["visitor_token"] != token
