"""The backend on the real SQLite storage: sessions, stored messages, Telegram link codes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.channels.webchat.backend import WebchatBackend
from bot.channels.webchat.inbound import to_event
from bot.channels.webchat.protocol import ButtonPress, ChatText
from bot.domain.clock import FakeClock
from bot.domain.inbound import InboundKind
from bot.domain.model import Channel, Direction, InboundUpdate, Sender
from bot.storage import Storage

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")


class Woken:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def woken() -> Woken:
    return Woken()


@pytest.fixture
def backend(sqlite_storage: Storage, clock: FakeClock, woken: Woken) -> WebchatBackend:
    return WebchatBackend(
        sqlite_storage.uow_factory, clock, on_inbound=woken, telegram_username=lambda: "shop_bot"
    )


async def pending_updates(storage: Storage) -> list[InboundUpdate]:
    async with storage.uow() as uow:
        return await uow.inbound.claim_pending(100)  # rolled back: they stay pending


async def test_a_new_visitor_gets_a_fresh_unguessable_token(backend: WebchatBackend) -> None:
    token, history = await backend.open_session(None, "en")
    other, _ = await backend.open_session(None, "en")

    assert TOKEN_RE.fullmatch(token)
    assert other != token
    assert history == []


async def test_an_issued_token_is_kept_across_visits(backend: WebchatBackend) -> None:
    token, _ = await backend.open_session(None, None)
    assert await backend.open_session(token, None) == (token, [])


async def test_a_token_the_server_never_issued_is_replaced(backend: WebchatBackend) -> None:
    made_up = "a" * 32
    token, history = await backend.open_session(made_up, None)
    assert token != made_up
    assert TOKEN_RE.fullmatch(token)
    assert history == []


async def test_accept_stores_and_commits_before_returning(
    backend: WebchatBackend, sqlite_storage: Storage, clock: FakeClock, woken: Woken
) -> None:
    token, _ = await backend.open_session(None, "de")

    assert await backend.accept(token, ChatText("c1", "Hallo"), language="de") is True

    [update] = await pending_updates(sqlite_storage)  # read through another connection
    assert update.channel is Channel.WEBCHAT
    assert update.external_key == f"{token}:c1"
    assert update.received_at == clock.now()
    assert update.payload == {
        "visitor_token": token,
        "type": "message",
        "client_id": "c1",
        "text": "Hallo",
        "language": "de",
        "display_name": "Web visitor",
    }
    assert woken.count == 1


async def test_a_repeated_client_id_is_stored_once(
    backend: WebchatBackend, sqlite_storage: Storage, woken: Woken
) -> None:
    token, _ = await backend.open_session(None, None)

    assert await backend.accept(token, ChatText("c1", "hi")) is True
    assert await backend.accept(token, ChatText("c1", "hi")) is False
    assert await backend.accept(token, ButtonPress("c1", "other")) is False

    assert len(await pending_updates(sqlite_storage)) == 1
    assert woken.count == 1  # the processor is not woken for nothing


async def test_the_same_client_id_from_two_visitors_is_two_messages(
    backend: WebchatBackend, sqlite_storage: Storage
) -> None:
    alice, _ = await backend.open_session(None, None)
    bob, _ = await backend.open_session(None, None)

    assert await backend.accept(alice, ChatText("c1", "hi"))
    assert await backend.accept(bob, ChatText("c1", "hi"))

    assert len(await pending_updates(sqlite_storage)) == 2


async def test_stored_payloads_become_events(
    backend: WebchatBackend, sqlite_storage: Storage
) -> None:
    token, _ = await backend.open_session(None, None)
    await backend.accept(token, ChatText("c1", "/start promo"), language="en")
    await backend.accept(token, ButtonPress("c2", "kb:shipping"))

    events = [to_event(update) for update in await pending_updates(sqlite_storage)]

    assert [(e.kind, e.command, e.command_args) for e in events] == [
        (InboundKind.COMMAND, "start", "promo"),
        (InboundKind.BUTTON, None, ""),
    ]
    assert events[1].callback_data == "kb:shipping"
    assert {e.sender.address for e in events} == {token}


async def seed_history(storage: Storage, clock: FakeClock, token: str) -> None:
    """What the processor leaves behind after answering the visitor once."""
    async with storage.uow() as uow:
        contact = await uow.contacts.create("Web visitor", "en")
        await uow.identities.add(contact.id, Channel.WEBCHAT, token, token, None)
        conversation = await uow.conversations.create(contact.id, Channel.WEBCHAT, clock.now())
        for direction, sender, text in [
            (Direction.INBOUND, Sender.CUSTOMER, "Where is my order?"),
            (Direction.OUTBOUND, Sender.BOT, "It ships <b>today</b>."),
        ]:
            args: dict[str, Any] = {"channel": Channel.WEBCHAT, "text": text, "at": clock.now()}
            await uow.messages.add(conversation.id, contact.id, direction, sender, **args)
            clock.advance(1)
        await uow.commit()


async def test_a_returning_visitor_gets_their_history(
    backend: WebchatBackend, sqlite_storage: Storage, clock: FakeClock
) -> None:
    token, _ = await backend.open_session(None, None)
    await seed_history(sqlite_storage, clock, token)

    same, history = await backend.open_session(token, None)

    assert same == token
    assert [(m.direction, m.text) for m in history] == [
        (Direction.INBOUND, "Where is my order?"),
        (Direction.OUTBOUND, "It ships <b>today</b>."),
    ]


async def test_a_telegram_link_carries_a_stored_one_time_code(
    backend: WebchatBackend, sqlite_storage: Storage
) -> None:
    token, _ = await backend.open_session(None, None)

    url = await backend.telegram_link(token)
    second = await backend.telegram_link(token)

    assert url is not None and second is not None and url != second
    match = re.fullmatch(r"https://t\.me/shop_bot\?start=w_([A-Za-z0-9_-]{16})", url)
    assert match is not None
    async with sqlite_storage.uow() as uow:
        assert await uow.settings.get(f"link:{match[1]}") == token


async def test_no_telegram_link_without_telegram(sqlite_storage: Storage) -> None:
    backend = WebchatBackend(
        sqlite_storage.uow_factory, FakeClock(), on_inbound=Woken(), telegram_username=lambda: None
    )
    assert await backend.telegram_link("some-visitor-token-0123456789") is None
