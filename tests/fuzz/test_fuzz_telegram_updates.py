"""Fuzzed Telegram updates: translated or refused with a sentence; through the whole app,
every stored update ends processed or failed, and a failed one leaves nothing behind."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings

from bot.channels.telegram.receiver import TelegramReceiver
from bot.channels.telegram.translate import to_event
from bot.conversation.inbox import TranslationError
from bot.domain.clock import FakeClock
from bot.domain.inbound import InboundEvent
from bot.domain.model import Channel, InboundStatus, InboundUpdate
from bot.storage import Storage, tables
from tests.e2e.conftest import Harness, fake_telegram, harness, settle
from tests.fuzz.strategies import telegram_updates

__all__ = ["fake_telegram", "harness"]  # the e2e fixtures, used by name

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@settings(max_examples=400, deadline=None)
@given(telegram_updates())
def test_any_update_is_translated_or_refused_with_a_sentence(payload: dict[str, Any]) -> None:
    update = InboundUpdate(1, Channel.TELEGRAM, "1", payload, InboundStatus.PENDING, AT)
    try:
        event = to_event(update)
    except TranslationError as exc:
        assert str(exc) and "\n" not in str(exc)[:200]
        return
    assert event is None or isinstance(event, InboundEvent)
    if event is not None:
        assert event.sender.external_id.isdigit() and event.update_key.startswith("telegram:")


_keys = itertools.count(1)


async def _count(app: Any, table: sa.Table) -> int:
    async with app.storage.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=telegram_updates())
async def test_the_app_ends_every_update_processed_or_failed_whole(
    harness: Harness, payload: dict[str, Any]
) -> None:
    app = harness.apps[0] if harness.apps else await harness.start()
    contacts, messages = await _count(app, tables.contacts), await _count(app, tables.messages)
    key = str(next(_keys))
    async with app.storage.uow() as uow:
        stored = await uow.inbound.add(Channel.TELEGRAM, key, payload, app.clock.now())
        await uow.commit()
    assert stored is not None

    await settle(app)

    async with app.storage.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(tables.inbound_updates).where(tables.inbound_updates.c.id == stored.id)
            )
        ).one()
    assert row.status in ("processed", "failed"), row
    if row.status == "failed":  # refused whole: a reason, and no contact or message of it
        assert row.error
        assert await _count(app, tables.contacts) == contacts
        assert await _count(app, tables.messages) == messages
        return
    message = payload.get("message")
    if _is_private_text(message):
        text = message.get("text") or message.get("caption") or "[non-text message]"
        async with app.storage.engine.connect() as conn:
            found = await conn.execute(
                sa.select(tables.messages.c.text).where(
                    tables.messages.c.direction == "in", tables.messages.c.text == text
                )
            )
            assert found.first() is not None, json.dumps(payload)[:300]


def _is_private_text(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("from"), dict)
        and isinstance(message.get("chat"), dict)
        and message["chat"].get("type") == "private"
    )


SECRET = "fuzz-secret"


async def _pending(storage: Storage) -> int:
    async with storage.engine.connect() as conn:
        count = sa.select(sa.func.count()).select_from(tables.inbound_updates)
        return int((await conn.execute(count)).scalar() or 0)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=telegram_updates())
@example(payload={"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "a\x00b",
         "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False,
         "first_name": "N\x00L"}}})  # fmt: skip
@example(payload={"update_id": 2, "message": "[" * 20_000})
@example(payload={"update_id": 3, "message": {"message_id": 1, "date": 1, "text": "a\ud800",
         "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False,
         "first_name": "\udfff"}}})  # fmt: skip
async def test_the_webhook_stores_any_update_whole_or_refuses_it(
    storage: Storage, payload: dict[str, Any]
) -> None:
    """On both databases: 200 with the update stored, or 400 with nothing stored."""
    receiver = TelegramReceiver(storage.uow, FakeClock(), lambda: None, webhook_secret=SECRET)
    before = await _pending(storage)
    answer = await receiver.receive_webhook(SECRET, json.dumps(payload).encode())
    after = await _pending(storage)
    assert answer.status in (200, 400), answer
    assert after == before + (1 if answer.text == "ok" else 0)


async def test_absurdly_nested_json_is_refused_not_raised(sqlite_storage: Storage) -> None:
    receiver = TelegramReceiver(
        sqlite_storage.uow, FakeClock(), lambda: None, webhook_secret=SECRET
    )
    for body in (b"[" * 30_000 + b"]" * 30_000, b'{"update_id": 1, "x": ' + b"[" * 30_000):
        answer = await receiver.receive_webhook(SECRET, body)
        assert answer.status == 400 and answer.text.startswith("malformed update")
