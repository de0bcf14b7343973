"""The dispatcher against real storage (SQLite and PostgreSQL) and a scripted channel gateway.

The gateway here is a stand-in for our own port, scripted with the results a channel can give;
the Telegram gateway itself is tested end to end against the fake Bot API server.
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta

import pytest

from bot.delivery.dispatcher import Dispatcher
from bot.delivery.outbox import Outbox
from bot.delivery.ratelimit import RateLimiter, RateLimits
from bot.delivery.retry import RetryPolicy
from bot.domain.clock import FakeClock
from bot.domain.model import Channel, OutboundDraft, OutboundKind, OutboundMessage, OutboxStatus
from bot.domain.ports import (
    SendBlocked,
    SendOk,
    SendOutcomeUnknown,
    SendRejected,
    SendResult,
    SendRetryAfter,
    SendTransientError,
)
from bot.storage.uow import Storage


class ScriptedGateway:
    channel = Channel.TELEGRAM
    max_text_length = 4096

    def __init__(self) -> None:
        self.script: deque[SendResult] = deque()
        self.sent: list[OutboundMessage] = []
        self.attempts: list[str] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.attempts.append(message.text)
        result = self.script.popleft() if self.script else SendOk(f"m{len(self.sent) + 1}")
        if isinstance(result, SendOk):
            self.sent.append(message)
        return result


def make_dispatcher(
    storage: Storage, clock: FakeClock, gateway: ScriptedGateway, limits: RateLimits | None = None
) -> Dispatcher:
    limiter = RateLimiter(limits or RateLimits(25, 1, 20, enabled=False), clock)
    return Dispatcher(
        storage.uow,
        {Channel.TELEGRAM: gateway},
        {Channel.TELEGRAM: limiter},
        clock,
        RetryPolicy(max_attempts=3, backoff_initial_seconds=2, backoff_max_seconds=60),
        batch_size=50,
    )


async def new_contact(storage: Storage, name: str = "Ann") -> int:
    async with storage.uow() as uow:
        contact = await uow.contacts.create(name, "en")
        await uow.commit()
    return contact.id


async def enqueue(
    storage: Storage,
    clock: FakeClock,
    contact_id: int,
    text: str,
    *,
    address: str = "42",
    kind: OutboundKind = OutboundKind.REPLY,
    key: str | None = None,
) -> list[OutboundMessage]:
    draft = OutboundDraft(
        key=key or f"k:{text[:30]}",
        contact_id=contact_id,
        channel=Channel.TELEGRAM,
        address=address,
        text=text,
        kind=kind,
    )
    async with storage.uow() as uow:
        rows = await Outbox({Channel.TELEGRAM: 4096}).enqueue(uow, draft, clock.now())
        await uow.commit()
    return rows


async def status_of(storage: Storage, key: str) -> OutboundMessage:
    async with storage.uow() as uow:
        row = await uow.outbox.get_by_key(key)
    assert row is not None
    return row


async def test_sends_and_records_the_channel_message_id(storage, clock) -> None:
    gateway = ScriptedGateway()
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "hello", key="a")

    report = await make_dispatcher(storage, clock, gateway).tick()

    assert report.outcomes["sent"] == 1
    row = await status_of(storage, "a")
    assert (row.status, row.channel_message_id) == (OutboxStatus.SENT, "m1")


async def test_same_key_is_stored_and_sent_once(storage, clock) -> None:
    gateway = ScriptedGateway()
    contact = await new_contact(storage)
    assert len(await enqueue(storage, clock, contact, "hello", key="dup")) == 1
    assert await enqueue(storage, clock, contact, "hello", key="dup") == []
    await make_dispatcher(storage, clock, gateway).tick()
    assert [m.text for m in gateway.sent] == ["hello"]


async def test_retry_after_blocks_the_chat_and_keeps_order(storage, clock) -> None:
    gateway = ScriptedGateway()
    gateway.script.append(SendRetryAfter(5, "429: Too Many Requests"))
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "one", key="1")
    await enqueue(storage, clock, contact, "two", key="2")
    dispatcher = make_dispatcher(storage, clock, gateway)

    await dispatcher.tick()
    assert gateway.attempts == ["one"]
    first = await status_of(storage, "1")
    assert (first.status, first.attempts) == (OutboxStatus.PENDING, 1)
    assert first.not_before == clock.now() + timedelta(seconds=5)

    clock.advance(4)
    await dispatcher.tick()
    assert gateway.attempts == ["one"]
    clock.advance(1)
    await dispatcher.tick()
    assert [m.text for m in gateway.sent] == ["one", "two"]


async def test_transient_errors_back_off_then_give_up_with_reason(storage, clock) -> None:
    gateway = ScriptedGateway()
    gateway.script.extend([SendTransientError("502 Bad Gateway")] * 3)
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "hello", key="t")
    dispatcher = make_dispatcher(storage, clock, gateway)

    await dispatcher.tick()
    assert (await status_of(storage, "t")).not_before == clock.now() + timedelta(seconds=2)
    clock.advance(2)
    await dispatcher.tick()
    assert (await status_of(storage, "t")).not_before == clock.now() + timedelta(seconds=4)
    clock.advance(4)
    await dispatcher.tick()

    row = await status_of(storage, "t")
    assert row.status == OutboxStatus.FAILED
    assert row.reason == "gave up after 3 attempts: 502 Bad Gateway"
    assert len(gateway.attempts) == 3


async def test_blocked_marks_contact_and_suppresses_the_rest(storage, clock) -> None:
    gateway = ScriptedGateway()
    gateway.script.append(SendBlocked("403: Forbidden: bot was blocked by the user"))
    contact = await new_contact(storage)
    for key in ("b1", "b2", "b3"):
        await enqueue(storage, clock, contact, f"text {key}", key=key)

    await make_dispatcher(storage, clock, gateway).tick()

    assert (await status_of(storage, "b1")).status == OutboxStatus.FAILED
    for key in ("b2", "b3"):
        row = await status_of(storage, key)
        assert (row.status, row.reason) == (OutboxStatus.SUPPRESSED, "contact blocked the bot")
    async with storage.uow() as uow:
        assert (await uow.contacts.get(contact)).blocked  # type: ignore[union-attr]


async def test_rejected_fails_with_reason_and_the_chat_goes_on(storage, clock) -> None:
    gateway = ScriptedGateway()
    gateway.script.append(SendRejected("400: Bad Request: can't parse entities"))
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "broken", key="r1")
    await enqueue(storage, clock, contact, "fine", key="r2")

    await make_dispatcher(storage, clock, gateway).tick()

    row = await status_of(storage, "r1")
    assert (row.status, row.reason) == (
        OutboxStatus.FAILED,
        "400: Bad Request: can't parse entities",
    )
    assert (await status_of(storage, "r2")).status == OutboxStatus.SENT


async def test_unknown_outcome_is_recorded_and_never_retried(storage, clock) -> None:
    gateway = ScriptedGateway()
    gateway.script.append(SendOutcomeUnknown("network: Request timeout error"))
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "maybe", key="u")
    dispatcher = make_dispatcher(storage, clock, gateway)

    await dispatcher.tick()
    clock.advance(3600)
    await dispatcher.tick()

    assert (await status_of(storage, "u")).status == OutboxStatus.UNKNOWN
    assert gateway.attempts == ["maybe"]


async def test_rows_left_sending_by_a_crash_become_unknown(storage, clock) -> None:
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "in flight", key="crash")
    async with storage.uow() as uow:
        assert len(await uow.outbox.claim_due(clock.now(), 10)) == 1  # then the process "dies"
        await uow.commit()

    gateway = ScriptedGateway()
    dispatcher = make_dispatcher(storage, clock, gateway)
    assert await dispatcher.recover() == 1
    await dispatcher.tick()

    assert (await status_of(storage, "crash")).status == OutboxStatus.UNKNOWN
    assert gateway.attempts == []


@pytest.mark.parametrize("kind", [OutboundKind.FUNNEL, OutboundKind.BROADCAST])
async def test_opted_out_contact_gets_replies_but_no_marketing(storage, clock, kind) -> None:
    gateway = ScriptedGateway()
    contact_id = await new_contact(storage)
    async with storage.uow() as uow:
        contact = await uow.contacts.get(contact_id)
        assert contact is not None
        contact.opted_out = True
        await uow.contacts.update(contact)
        await uow.commit()
    await enqueue(storage, clock, contact_id, "offer", kind=kind, key="m")
    await enqueue(storage, clock, contact_id, "answer", kind=OutboundKind.REPLY, key="r")

    await make_dispatcher(storage, clock, gateway).tick()

    row = await status_of(storage, "m")
    assert (row.status, row.reason) == (
        OutboxStatus.SUPPRESSED,
        "contact opted out of marketing messages",
    )
    assert [m.text for m in gateway.sent] == ["answer"]


async def test_rate_limits_defer_without_counting_an_attempt(storage, clock) -> None:
    gateway = ScriptedGateway()
    contact = await new_contact(storage)
    for i in range(3):
        await enqueue(storage, clock, contact, f"msg {i}", key=f"rl{i}")
    dispatcher = make_dispatcher(storage, clock, gateway, RateLimits(25, 1, 20, enabled=True))

    await dispatcher.tick()
    assert [m.text for m in gateway.sent] == ["msg 0"]
    deferred = await status_of(storage, "rl1")
    assert (deferred.status, deferred.attempts) == (OutboxStatus.PENDING, 0)

    for _ in range(2):
        clock.advance(1)
        await dispatcher.tick()
    assert [m.text for m in gateway.sent] == ["msg 0", "msg 1", "msg 2"]


async def test_different_chats_are_not_held_by_one_slow_chat(storage, clock) -> None:
    gateway = ScriptedGateway()
    gateway.script.append(SendRetryAfter(30, "429"))
    contact = await new_contact(storage)
    await enqueue(storage, clock, contact, "to chat 1", address="1", key="c1")
    await enqueue(storage, clock, contact, "to chat 2", address="2", key="c2")

    await make_dispatcher(storage, clock, gateway).tick()

    assert [m.text for m in gateway.sent] == ["to chat 2"]


async def test_long_text_becomes_ordered_parts(storage, clock) -> None:
    gateway = ScriptedGateway()
    contact = await new_contact(storage)
    text = "\n\n".join(f"Part {i} " + "x" * 3000 for i in range(3))
    rows = await enqueue(storage, clock, contact, text, key="long")
    assert [r.key for r in rows] == ["long#1", "long#2", "long#3"]

    await make_dispatcher(storage, clock, gateway).tick()

    assert [m.text.split(" ")[1] for m in gateway.sent] == ["0", "1", "2"]


async def test_a_reply_does_not_wait_behind_a_broadcast_backlog(storage, clock) -> None:
    gateway = ScriptedGateway()
    contact = await new_contact(storage)
    for i in range(30):
        await enqueue(
            storage,
            clock,
            contact,
            f"offer {i}",
            address=str(1000 + i),
            kind=OutboundKind.BROADCAST,
            key=f"b{i}",
        )
    await enqueue(storage, clock, contact, "your answer", address="42", key="reply")
    dispatcher = make_dispatcher(storage, clock, gateway, RateLimits(5, 1, 20, enabled=True))

    await dispatcher.tick()  # five sends allowed this second

    assert gateway.attempts[0] == "your answer"
    assert len(gateway.attempts) == 5


async def test_a_batch_of_sends_records_each_rows_own_message_id(storage, clock) -> None:
    gateway = ScriptedGateway()
    contact = await new_contact(storage)
    async with storage.uow() as uow:
        conversation = await uow.conversations.create(contact, Channel.TELEGRAM, clock.now())
        for n in range(5):
            draft = OutboundDraft(
                key=f"batch-{n}",
                contact_id=contact,
                conversation_id=conversation.id,
                channel=Channel.TELEGRAM,
                address=str(100 + n),  # five chats: sent concurrently, recorded together
                text=f"part {n}",
                kind=OutboundKind.REPLY,
            )
            await Outbox({Channel.TELEGRAM: 4096}).enqueue(uow, draft, clock.now())
        await uow.commit()

    report = await make_dispatcher(storage, clock, gateway).tick()

    assert report.outcomes["sent"] == 5
    sent_ids = {m.text: f"m{i + 1}" for i, m in enumerate(gateway.sent)}
    async with storage.uow() as uow:
        rows = [await uow.outbox.get_by_key(f"batch-{n}") for n in range(5)]
        history = await uow.messages.history(contact)
    assert {row.text: row.channel_message_id for row in rows if row} == sent_ids
    assert {m.text: m.channel_message_id for m in history} == sent_ids
    assert all(row is not None and row.sent_at == clock.now() for row in rows)


class OptOutAfterFirstSend(ScriptedGateway):
    """A /stop stored (by a web process) while the first of a chat's claimed rows goes out."""

    def __init__(self, storage: Storage, contact_id: int) -> None:
        super().__init__()
        self._storage, self._contact_id = storage, contact_id

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await super().send(message)
        if len(self.sent) == 1:
            async with self._storage.uow() as uow:
                contact = await uow.contacts.get(self._contact_id)
                assert contact is not None
                contact.opted_out = True
                await uow.contacts.update(contact)
                await uow.commit()
        return result


async def test_an_opt_out_stored_mid_batch_holds_the_chats_later_marketing_rows(
    storage, clock
) -> None:
    contact_id = await new_contact(storage)
    gateway = OptOutAfterFirstSend(storage, contact_id)
    for n in range(3):
        await enqueue(
            storage, clock, contact_id, f"offer {n}", kind=OutboundKind.BROADCAST, key=f"b{n}"
        )

    await make_dispatcher(storage, clock, gateway).tick()

    # All three were claimed in one batch while Ann was subscribed; only the row already on
    # its way when she opted out reached her.
    assert [m.text for m in gateway.sent] == ["offer 0"]
    for key in ("b1", "b2"):
        row = await status_of(storage, key)
        assert (row.status, row.reason) == (
            OutboxStatus.SUPPRESSED,
            "contact opted out of marketing messages",
        )
