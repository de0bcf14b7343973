"""The web chat over real HTTP: an aiohttp server on 127.0.0.1, real WebSocket clients, a real
SQLite database, and a real headless Chromium running the widget on the demo page."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.webchat.backend import WebchatBackend
from bot.channels.webchat.gateway import WebchatGateway
from bot.channels.webchat.hub import WebchatHub
from bot.channels.webchat.inbound import to_event
from bot.domain.clock import FakeClock
from bot.domain.inbound import InboundEvent, InboundKind
from bot.domain.model import (
    Button,
    Channel,
    Direction,
    InboundUpdate,
    OutboundDraft,
    OutboundMessage,
    Sender,
)
from bot.domain.ports import UnitOfWork
from bot.storage import Storage
from bot.web.webchat_routes import add_webchat_routes

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # the browser test is skipped below
    async_playwright = None  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOP = "https://shop.example"
TIMEOUT = 10.0


def echo(event: InboundEvent) -> tuple[str, list[list[Button]]]:
    """The test bot: echoes text in bold, offers a button, answers a press."""
    if event.kind is InboundKind.BUTTON:
        return f"Pressed: {html.escape(event.callback_data or '')}", []
    return f"Echo: <b>{html.escape(event.text)}</b>", [[Button("Track", callback_data="track")]]


@dataclass
class Chat:
    """A running server with its storage, plus a tiny test-only processor."""

    storage: Storage
    clock: FakeClock
    hub: WebchatHub
    gateway: WebchatGateway
    base_url: str
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    reply: Callable[[InboundEvent], tuple[str, list[list[Button]]]] = echo
    events: list[InboundEvent] = field(default_factory=list)  # what the processor took
    backend: WebchatBackend = field(init=False)

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/webchat/ws"

    async def stored(self) -> list[InboundUpdate]:
        async with self.storage.uow() as uow:
            return await uow.inbound.claim_pending(100)  # rolled back: still pending

    async def process_pending(self) -> int:
        """What the real processor does, cut to the bone: store both sides, send the reply."""
        sent: list[OutboundMessage] = []
        async with self.storage.uow() as uow:
            for update in await uow.inbound.claim_pending(10):
                event = to_event(update)
                self.events.append(event)
                at = self.clock.now()
                contact_id, conversation_id = await conversation_for(uow, event, at)
                if event.kind is not InboundKind.BUTTON:
                    await uow.messages.add(
                        conversation_id, contact_id, Direction.INBOUND, Sender.CUSTOMER,
                        Channel.WEBCHAT, event.text, at,
                    )  # fmt: skip
                text, buttons = self.reply(event)
                draft = OutboundDraft(
                    key=f"echo:{event.update_key}", contact_id=contact_id,
                    channel=Channel.WEBCHAT, address=event.sender.address, text=text,
                    conversation_id=conversation_id, buttons=buttons,
                )  # fmt: skip
                row = await uow.outbox.add(draft, at)
                assert row is not None
                await uow.messages.add(
                    conversation_id, contact_id, Direction.OUTBOUND, Sender.BOT,
                    Channel.WEBCHAT, text, at, outbox_id=row.id,
                )  # fmt: skip
                await uow.inbound.mark(update.id, True, None, at)
                sent.append(row)
            await uow.commit()
        for row in sent:
            await self.gateway.send(row)
        return len(sent)

    async def run_processor(self) -> None:
        """Woken by the backend after each stored message, like the real processor."""
        while True:
            await self.woken.wait()
            self.woken.clear()
            await self.process_pending()


async def conversation_for(uow: UnitOfWork, event: InboundEvent, at: datetime) -> tuple[int, int]:
    """The visitor's contact and open conversation, created on their first message."""
    identity = await uow.identities.find(Channel.WEBCHAT, event.sender.external_id)
    if identity is None:
        contact = await uow.contacts.create(event.sender.display_name, None)
        identity = await uow.identities.add(
            contact.id, Channel.WEBCHAT, event.sender.external_id, event.sender.address, None
        )
    conversation = await uow.conversations.open_for_contact(identity.contact_id)
    if conversation is None:
        conversation = await uow.conversations.create(identity.contact_id, Channel.WEBCHAT, at)
    return identity.contact_id, conversation.id


async def start_chat(
    storage: Storage, clock: FakeClock, telegram: str | None = "shop_bot"
) -> tuple[Chat, web.AppRunner]:
    hub = WebchatHub()
    chat = Chat(storage, clock, hub, WebchatGateway(hub, clock), base_url="")
    chat.backend = WebchatBackend(
        storage.uow_factory, clock, on_inbound=chat.woken.set, telegram_username=lambda: telegram
    )
    runner = await serve(chat, port=0)
    host, port = runner.addresses[0][:2]
    chat.base_url = f"http://{host}:{port}"
    return chat, runner


async def serve(chat: Chat, port: int) -> web.AppRunner:
    """(Re)start the web app for `chat` on 127.0.0.1:`port` (0: any free port)."""
    app = web.Application()
    add_webchat_routes(app, chat.backend, chat.hub, title="Coffee & <Co>", allowed_origins=[SHOP])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.fixture
async def chat(sqlite_storage: Storage, clock: FakeClock) -> AsyncIterator[Chat]:
    running, runner = await start_chat(sqlite_storage, clock)
    try:
        yield running
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    frame: dict[str, Any] = await ws.receive_json(timeout=TIMEOUT)
    return frame


async def connect(
    chat: Chat, http: aiohttp.ClientSession, token: str | None = None, origin: str | None = None
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await http.ws_connect(chat.ws_url, origin=origin or chat.base_url)
    await ws.send_json({"type": "hello", "visitor_token": token, "language": "en"})
    welcome = await receive(ws)
    assert welcome["type"] == "welcome", welcome
    return ws, welcome


def message(client_id: str, text: str) -> dict[str, Any]:
    return {"type": "message", "client_id": client_id, "text": text}


# --- the socket ----------------------------------------------------------------------------------


async def test_hello_gets_a_welcome_with_a_fresh_token(
    chat: Chat, http: aiohttp.ClientSession
) -> None:
    ws, welcome = await connect(chat, http)
    assert len(welcome["visitor_token"]) == 32
    assert welcome["history"] == []
    await ws.close()


async def test_a_message_is_acked_once_its_row_is_committed(
    chat: Chat, http: aiohttp.ClientSession
) -> None:
    ws, welcome = await connect(chat, http)
    token = welcome["visitor_token"]

    await ws.send_json(message("c1", "Do you ship to Austria?"))
    assert await receive(ws) == {"type": "ack", "client_id": "c1", "duplicate": False}

    # The ack came after the commit: another connection sees the row at once.
    [update] = await chat.stored()
    assert update.external_key == f"{token}:c1"
    assert update.payload["text"] == "Do you ship to Austria?"
    assert update.payload["language"] == "en"
    assert chat.woken.is_set()
    await ws.close()


async def test_a_repeated_message_is_acked_as_duplicate_and_stored_once(
    chat: Chat, http: aiohttp.ClientSession
) -> None:
    ws, _ = await connect(chat, http)
    for duplicate in (False, True, True):
        await ws.send_json(message("same-id", "hello"))
        assert await receive(ws) == {"type": "ack", "client_id": "same-id", "duplicate": duplicate}
    assert len(await chat.stored()) == 1
    await ws.close()


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        json.dumps({"type": "shout"}),
        json.dumps(message("bad id!", "hi")),
        json.dumps(message("c1", "x" * 4001)),
        json.dumps({"type": "message", "client_id": "c1", "text": 42}),
        json.dumps({"type": "hello", "visitor_token": None}),  # hello only once
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(
    chat: Chat, http: aiohttp.ClientSession, bad: str
) -> None:
    ws, _ = await connect(chat, http)

    await ws.send_str(bad)
    error = await receive(ws)
    assert error["type"] == "error" and error["message"].endswith(".")

    await ws.send_json(message("c2", "still here"))
    assert await receive(ws) == {"type": "ack", "client_id": "c2", "duplicate": False}
    assert [u.payload["client_id"] for u in await chat.stored()] == ["c2"]
    await ws.close()


async def test_the_first_frame_must_be_hello(chat: Chat, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(chat.ws_url)
    await ws.send_json(message("c1", "hi"))
    error = await receive(ws)
    assert error["type"] == "error"
    closing = await ws.receive(timeout=TIMEOUT)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION
    assert await chat.stored() == []


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://shop.example"])
async def test_a_foreign_origin_is_refused(
    chat: Chat, http: aiohttp.ClientSession, origin: str
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(chat.ws_url, origin=origin)
    assert refused.value.status == 403


@pytest.mark.parametrize("origin", [SHOP, "https://SHOP.example:443", "http://localhost:8000"])
async def test_the_shop_and_localhost_are_allowed(
    chat: Chat, http: aiohttp.ClientSession, origin: str
) -> None:
    ws, _ = await connect(chat, http, origin=origin)
    await ws.close()


async def test_a_flood_is_slowed_down(chat: Chat, http: aiohttp.ClientSession) -> None:
    ws, _ = await connect(chat, http)
    for _ in range(40):
        await ws.send_json({"type": "nonsense"})
    answers = [(await receive(ws))["message"] for _ in range(40)]
    assert any("slow down" in answer for answer in answers)
    assert not ws.closed
    await ws.close()


async def test_an_oversized_frame_closes_the_socket(
    chat: Chat, http: aiohttp.ClientSession
) -> None:
    ws, _ = await connect(chat, http)
    await ws.send_str("x" * 100_000)
    closing = await ws.receive(timeout=TIMEOUT)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_a_reply_is_pushed_live_and_a_reconnect_gets_the_history(
    chat: Chat, http: aiohttp.ClientSession
) -> None:
    ws, welcome = await connect(chat, http)
    token = welcome["visitor_token"]
    await ws.send_json(message("c1", "1 < 2 & <b>"))
    assert (await receive(ws))["type"] == "ack"

    assert await chat.process_pending() == 1
    pushed = await receive(ws)
    assert pushed["type"] == "message"
    assert pushed["html"] == "Echo: <b>1 &lt; 2 &amp; &lt;b&gt;</b>"
    assert pushed["buttons"] == [[{"text": "Track", "data": "track"}]]
    await ws.close()

    again, welcome = await connect(chat, http, token=token)
    assert welcome["visitor_token"] == token
    assert [(m["direction"], m["html"]) for m in welcome["history"]] == [
        ("in", "1 &lt; 2 &amp; &lt;b&gt;"),
        ("out", "Echo: <b>1 &lt; 2 &amp; &lt;b&gt;</b>"),
    ]
    assert welcome["history"][1]["id"] == pushed["id"]  # the widget shows it once
    await again.close()


async def test_every_tab_of_the_visitor_gets_the_reply(
    chat: Chat, http: aiohttp.ClientSession
) -> None:
    first, welcome = await connect(chat, http)
    second, _ = await connect(chat, http, token=welcome["visitor_token"])
    await first.send_json(message("c1", "hi"))
    await receive(first)
    await chat.process_pending()
    assert (await receive(first))["id"] == (await receive(second))["id"]
    await first.close()
    await second.close()


async def test_shutdown_tells_open_tabs_to_go_away(
    sqlite_storage: Storage, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    chat, runner = await start_chat(sqlite_storage, clock)
    ws, _ = await connect(chat, http)
    await runner.cleanup()
    closing = await ws.receive(timeout=TIMEOUT)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert closing.data == aiohttp.WSCloseCode.GOING_AWAY  # the code the server sent


async def test_a_telegram_link_is_offered(chat: Chat, http: aiohttp.ClientSession) -> None:
    ws, welcome = await connect(chat, http)
    await ws.send_json({"type": "link_telegram"})
    frame = await receive(ws)
    assert frame["type"] == "telegram_link"
    assert frame["url"].startswith("https://t.me/shop_bot?start=w_")
    code = frame["url"].rsplit("w_", 1)[1]
    async with chat.storage.uow() as uow:
        assert await uow.settings.get(f"link:{code}") == welcome["visitor_token"]
    await ws.close()


async def test_no_telegram_link_without_telegram(
    sqlite_storage: Storage, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    chat, runner = await start_chat(sqlite_storage, clock, telegram=None)
    try:
        ws, _ = await connect(chat, http)
        await ws.send_json({"type": "link_telegram"})
        frame = await receive(ws)
        assert frame["type"] == "telegram_link" and frame["url"] is None
        assert frame["reason"]
        await ws.close()
    finally:
        await runner.cleanup()


# --- the static files ----------------------------------------------------------------------------


async def test_the_widget_script_is_cacheable(chat: Chat, http: aiohttp.ClientSession) -> None:
    async with http.get(chat.base_url + "/widget.js") as response:
        assert response.status == 200
        assert response.content_type == "application/javascript"
        assert "max-age=" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
        assert "nudge-wc-" in await response.text()
    headers = {"If-None-Match": etag}
    async with http.get(chat.base_url + "/widget.js", headers=headers) as response:
        assert response.status == 304


async def test_the_demo_page_embeds_the_widget_with_one_tag(
    chat: Chat, http: aiohttp.ClientSession
) -> None:
    async with http.get(chat.base_url + "/") as response:
        assert response.status == 200
        page = await response.text()
    assert page.count("<script") == 1
    assert '<script src="/widget.js" data-title="Coffee &amp; &lt;Co&gt;" async>' in page


# --- the widget in a real browser -------------------------------------------------------------

EVIL = (
    'Careful: <script>window.__pwned = "script"</script>'
    '<img src="x" onerror="window.__pwned = \'img\'">'
    "<a href=\"javascript:window.__pwned = 'link'\">js</a> "
    '<a href="https://example.com/ok">fine link</a> <b>bold</b>'
)


def echo_or_attack(event: InboundEvent) -> tuple[str, list[list[Button]]]:
    return (EVIL, []) if event.text == "attack" else echo(event)


needs_browser = pytest.mark.skipif(
    async_playwright is None or not CHROMIUM.exists(),
    reason="needs the playwright package (pip install playwright) and Debian's Chromium at "
    "/usr/bin/chromium (apt-get install chromium)",
)


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    """A Chromium page; the test fails if the page throws a JavaScript error."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            tab = await browser.new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            expect.set_options(timeout=TIMEOUT * 1000)
            yield tab
            assert errors == []
        finally:
            await browser.close()


@needs_browser
async def test_the_widget_in_chromium(chat: Chat, page: Any, tmp_path: Path) -> None:
    chat.reply = echo_or_attack
    processor = asyncio.create_task(chat.run_processor())
    try:
        await page.goto(chat.base_url + "/")
        await chat_in_browser(page, chat, tmp_path)
    finally:
        processor.cancel()


@needs_browser
async def test_the_widget_resends_what_was_typed_while_the_server_was_away(
    sqlite_storage: Storage, clock: FakeClock, page: Any
) -> None:
    chat, runner = await start_chat(sqlite_storage, clock)
    processor = asyncio.create_task(chat.run_processor())
    try:
        await page.goto(chat.base_url + "/")
        await page.get_by_role("button", name="Open chat").click()
        box = page.get_by_role("textbox", name="Message")
        log = page.get_by_role("log")
        await box.fill("first")
        await box.press("Enter")
        await expect(log.locator(".nudge-wc-out")).to_have_text(["Echo: first"])

        await runner.cleanup()  # the server goes away; the tab is told and starts retrying
        await box.fill("typed offline")
        await box.press("Enter")
        await expect(log.locator(".nudge-wc-pending")).to_have_text(["typed offline"])

        runner = await serve(chat, port=int(chat.base_url.rsplit(":", 1)[1]))
        await expect(log.locator(".nudge-wc-out")).to_have_text(
            ["Echo: first", "Echo: typed offline"]
        )
        await expect(log.locator(".nudge-wc-pending")).to_have_count(0)
        assert [event.text for event in chat.events] == ["first", "typed offline"]
    finally:
        processor.cancel()
        await runner.cleanup()


async def chat_in_browser(page: Any, chat: Chat, tmp_path: Path) -> None:
    bubble = page.get_by_role("button", name="Open chat")
    await bubble.click()
    dialog = page.get_by_role("dialog", name="Coffee & <Co>")
    await expect(dialog).to_be_visible()
    box = dialog.get_by_role("textbox", name="Message")
    await expect(box).to_be_focused()

    await box.fill("Hello shop")
    await box.press("Enter")
    log = dialog.get_by_role("log")
    await expect(log.locator(".nudge-wc-out")).to_have_text(["Echo: Hello shop"])
    await expect(log.locator(".nudge-wc-out b")).to_have_text("Hello shop")
    # The reply can only exist because the processor found the stored, committed row.
    assert [(e.kind, e.text) for e in chat.events] == [(InboundKind.TEXT, "Hello shop")]

    await log.get_by_role("button", name="Track").click()
    await expect(log.locator(".nudge-wc-out").last).to_have_text("Pressed: track")

    await page.reload()
    await page.get_by_role("button", name="Open chat").click()
    await expect(log.locator(".nudge-wc-in")).to_have_text(["Hello shop"])
    await expect(log.locator(".nudge-wc-out")).to_have_text(["Echo: Hello shop", "Pressed: track"])

    await box.fill("attack")
    await box.press("Enter")
    attack = log.locator(".nudge-wc-out").last
    await expect(attack).to_contain_text('<script>window.__pwned = "script"</script>')
    await expect(attack).to_contain_text('<img src="x" onerror=')
    assert await page.evaluate("window.__pwned") is None
    assert await log.locator("img, script, [onerror]").count() == 0
    await expect(attack.locator("b")).to_have_text("bold")
    await expect(attack.get_by_role("link", name="js")).to_have_count(0)
    fine = attack.get_by_role("link", name="fine link")
    await expect(fine).to_have_attribute("href", "https://example.com/ok")
    await expect(fine).to_have_attribute("target", "_blank")
    await expect(fine).to_have_attribute("rel", "noopener noreferrer")

    await dialog.get_by_role("button", name="Continue in Telegram").click()
    link = log.get_by_role("link", name="Continue in Telegram")
    await expect(link).to_have_attribute("href", re.compile(r"^https://t\.me/shop_bot\?start=w_"))

    shot = tmp_path / "widget.png"
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 1000

    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("button", name="Open chat")).to_be_focused()
