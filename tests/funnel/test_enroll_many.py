"""`FunnelRunner.enroll_many` (campaigns, scans) decides like `enroll` one contact at a time, and
a batch of due steps reads its contacts with one query per kind (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.domain.clock import FakeClock
from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogKind
from bot.domain.model import Channel, ConversationStatus
from bot.funnel.model import FrequencyCap, Funnel
from bot.storage.uow import Storage
from tests.funnel.test_runner import Shop
from tests.handoff.scenario import World, policy_from

Entries = list[tuple[int, dict[str, Any]]]

# Two funnels alike but for their id: one is entered in bulk, the other one contact at a time.
FUNNEL = """
id: {id}
trigger: {{event: campaign}}
audience: contact.language == "en"
reentry: {{once_per: 7d}}
steps:
  - id: hello
    send: funnel_welcome_hello
"""


@pytest.fixture
def shop(storage: Storage, clock: FakeClock, tmp_path: Path) -> Shop:
    for name in ("bulk", "single"):
        (tmp_path / f"{name}.yaml").write_text(textwrap.dedent(FUNNEL.format(id=name)))
    return Shop(storage, clock, tmp_path)


def funnel(shop: Shop, funnel_id: str) -> Funnel:
    found = shop.library.current().get(funnel_id)
    assert found is not None, shop.library.current().problems
    return found


async def enroll_many(shop: Shop, funnel_id: str, entries: Entries) -> list[Enrollment]:
    now = shop.clock.now()
    async with shop.storage.uow() as uow:
        made = await shop.runner.enroll_many(uow, funnel(shop, funnel_id), entries, now)
        await uow.commit()
    return made


async def enroll_one_by_one(shop: Shop, funnel_id: str, entries: Entries) -> list[int]:
    entered = []
    now = shop.clock.now()
    async with shop.storage.uow() as uow:
        for contact_id, data in entries:
            made = await shop.runner.enroll(uow, funnel(shop, funnel_id), contact_id, data, now)
            if made is not None:
                entered.append(made.contact_id)
        await uow.commit()
    return entered


async def set_contact(shop: Shop, contact_id: int, **changes: Any) -> None:
    async with shop.storage.uow() as uow:
        contact = await uow.contacts.get(contact_id)
        assert contact is not None
        await uow.contacts.update(dataclasses.replace(contact, **changes))
        await uow.commit()


async def test_enroll_many_decides_like_enroll_for_every_kind_of_contact(shop: Shop) -> None:
    fresh, inside, left_lately, left_long_ago, russian, opted_out = [
        await shop.contact(user, f"C{user}") for user in range(1, 7)
    ]
    await set_contact(shop, russian, language="ru")  # outside the audience
    await set_contact(shop, opted_out, opted_out=True)  # enters; its marketing sends stop later
    for name in ("bulk", "single"):  # the same history in both funnels
        await enroll_many(shop, name, [(left_long_ago, {})])
    shop.clock.advance(timedelta(days=8))
    for name in ("bulk", "single"):
        await enroll_many(shop, name, [(left_lately, {}), (inside, {})])
    async with shop.storage.uow() as uow:  # both leave again; `inside` stays
        for contact_id in (left_long_ago, left_lately):
            await uow.enrollments.exit_open_for_contact(contact_id, "test", shop.clock.now())
        await uow.commit()
    shop.clock.advance(timedelta(days=1))
    missing = 10**9  # no such contact
    everyone = (fresh, inside, left_lately, left_long_ago, russian, opted_out, missing)
    entries: Entries = [(c, {"n": c}) for c in everyone]
    entries.append((fresh, {"n": "again"}))  # listed twice: enters once, with its first event

    made = await enroll_many(shop, "bulk", entries)
    single = await enroll_one_by_one(shop, "single", entries)

    assert [e.contact_id for e in made] == single == [fresh, left_long_ago, opted_out]
    assert [e.event for e in made] == [{"n": fresh}, {"n": left_long_ago}, {"n": opted_out}]
    assert len({e.id for e in made}) == 3 and all(e.id > 0 and e.version == 0 for e in made)
    for enrollment in made:
        stored = await shop.enrollment(enrollment.contact_id, "bulk")
        assert stored == enrollment
        assert stored.status is EnrollmentStatus.RUNNING and stored.due_at == shop.clock.now()
        assert await shop.log(enrollment.id) == [FunnelLogKind.ENTERED]


async def test_contacts_entered_in_bulk_get_their_steps_and_opted_out_ones_none(
    shop: Shop,
) -> None:
    ann, bob, eve = [await shop.contact(user, f"C{user}") for user in (1, 2, 3)]
    await set_contact(shop, eve, opted_out=True)
    assert len(await enroll_many(shop, "bulk", [(ann, {}), (bob, {}), (eve, {})])) == 3
    assert (await shop.runner.tick()).saved == 3
    assert sorted(await shop.sent()) == ["Welcome", "Welcome"]
    stopped = await shop.enrollment(eve, "bulk")
    assert stopped.status is not EnrollmentStatus.RUNNING
    assert stopped.end_reason == "opted out of marketing messages"


async def test_nothing_to_enroll_writes_nothing(shop: Shop) -> None:
    assert await enroll_many(shop, "bulk", []) == []
    async with shop.storage.uow() as uow:
        assert await uow.enrollments.count_open() == 0


# -- a batch of due steps reads its contacts in bulk -----------------------------------------


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement run while the test runs (both drivers go through `Engine`)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


async def statements_of_a_tick(shop: Shop, users: range, seen: list[str]) -> int:
    ids = [await shop.contact(user, f"C{user}") for user in users]
    async with shop.storage.uow() as uow:  # a conversation each: its messages are stored too
        for contact_id in ids:
            await uow.conversations.create(contact_id, Channel.TELEGRAM, shop.clock.now())
        await uow.commit()
    await enroll_many(shop, "bulk", [(c, {}) for c in ids])
    seen.clear()
    assert (await shop.runner.tick()).saved == len(ids)
    return len(seen)


@pytest.mark.parametrize("capped", [False, True])
async def test_a_batch_of_steps_costs_the_same_statements_whatever_its_size(
    storage: Storage, clock: FakeClock, tmp_path: Path, statements: list[str], capped: bool
) -> None:
    (tmp_path / "bulk.yaml").write_text(textwrap.dedent(FUNNEL.format(id="bulk")))
    cap = FrequencyCap(5, timedelta(days=1)) if capped else None
    shop = Shop(storage, clock, tmp_path, cap=cap)
    small = await statements_of_a_tick(shop, range(100, 105), statements)
    large = await statements_of_a_tick(shop, range(200, 225), statements)
    # The reads are one query per kind, the outbox rows one statement, their messages another.
    assert large == small
    async with storage.uow() as uow:
        rows = await uow.outbox.claim_due(clock.now(), 100)
        logged = [m for r in rows for m in await uow.messages.history(r.contact_id)]
    assert len(rows) == 30 and {r.step_id for r in rows} == {"hello"}
    assert sorted(m.outbox_id for m in logged) == sorted(r.id for r in rows)
    assert all(m.text == r.text for r in rows for m in logged if m.outbox_id == r.id)


async def test_a_hand_off_earlier_in_the_batch_pauses_a_later_send(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    """The batch's cached conversation is read again after a hand-off step changed it."""
    (tmp_path / "hand.yaml").write_text(
        textwrap.dedent("""
        id: hand
        trigger: {event: help}
        steps:
          - id: person
            handoff: {summary: wants a person}
        """)
    )
    (tmp_path / "bulk.yaml").write_text(textwrap.dedent(FUNNEL.format(id="bulk")))
    shop = Shop(storage, clock, tmp_path)
    shop.runner._handoff = World(storage, clock, policy_from({})).handoff  # as the app wires it
    ann = await shop.contact()
    async with storage.uow() as uow:
        await uow.conversations.create(ann, Channel.TELEGRAM, clock.now())
        await uow.commit()
    await enroll_many(shop, "hand", [(ann, {})])
    [waiting] = await enroll_many(shop, "bulk", [(ann, {})])
    assert (await shop.runner.tick()).saved == 2  # one batch: the hand-off runs first
    async with storage.uow() as uow:
        conversation = await uow.conversations.open_for_contact(ann)
        rows = await uow.outbox.claim_due(clock.now(), 100)
    assert conversation is not None and conversation.status is ConversationStatus.WAITING_FOR_AGENT
    assert not [row for row in rows if row.key.startswith(f"funnel:{waiting.id}:")]
    waiting = await shop.enrollment(ann, "bulk")
    assert waiting.status is EnrollmentStatus.RUNNING and waiting.due_at > clock.now()
    assert await shop.log(waiting.id) == [FunnelLogKind.ENTERED, FunnelLogKind.DELAYED]
