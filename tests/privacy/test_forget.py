"""`forget` on SQLite and PostgreSQL: a real dump afterwards holds nothing of the person."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bot.domain.clock import FakeClock
from bot.events.parsing import EventError
from bot.events.service import EventsService
from bot.privacy import ContactNotFoundError, PrivacyService, parse_person_ref
from bot.storage.survey_tables import survey_responses
from bot.storage.tables import (
    api_events,
    conversation_events,
    enrollments,
    funnel_log,
    outbox,
    privacy_audit,
)
from bot.storage.uow import Storage
from tests.privacy.world import Person, dump_database, person, store_agent, store_person


async def _world(storage: Storage, clock: FakeClock) -> tuple[Person, Person]:
    agent_id = await store_agent(storage, clock.now())
    victim, bystander = person("Quux", 7700771234), person("Byst", 6600665678)
    for who in (victim, bystander):
        await store_person(storage, who, clock.now(), agent_id)
    return victim, bystander


def _found(dump: str, who: Person) -> dict[str, str]:
    return {what: value for what, value in who.secrets.items() if value in dump}


async def _rows(storage: Storage, statement: sa.Select[tuple[object, ...]]) -> list[object]:
    async with storage.engine.connect() as conn:
        return list((await conn.execute(statement)).all())


async def test_a_dump_after_forget_holds_nothing_of_the_person(
    storage: Storage, clock: FakeClock, database_url: str
) -> None:
    victim, bystander = await _world(storage, clock)
    before = await dump_database(database_url)
    # The dump really shows stored data: every string of both people is in it now.
    assert _found(before, victim) == victim.secrets
    assert _found(before, bystander) == bystander.secrets

    service = PrivacyService(storage.uow, clock)
    report = await service.forget(parse_person_ref(f"telegram:{victim.telegram_id}"), "dpo")

    after = await dump_database(database_url)
    assert _found(after, victim) == {}
    assert _found(after, bystander) == bystander.secrets  # nobody else lost anything
    assert report.contact_id == victim.contact_id
    assert report.suppressed_messages == 2  # the funnel step due tomorrow and a web chat reply
    assert report.ended_enrollments == 1
    assert report.erased_updates == 3  # two Telegram updates and one web chat message
    assert report.deleted_settings == 4


async def test_forget_cancels_pending_work_with_a_reason(
    storage: Storage, clock: FakeClock
) -> None:
    victim, bystander = await _world(storage, clock)

    await PrivacyService(storage.uow, clock).forget(parse_person_ref(str(victim.contact_id)), "x")

    rows = await _rows(storage, sa.select(outbox.c.contact_id, outbox.c.status, outbox.c.reason))
    mine = [(status, reason) for contact, status, reason in rows if contact == victim.contact_id]
    assert sorted(mine) == [
        ("sent", None),
        ("suppressed", "contact forgotten"),
        ("suppressed", "contact forgotten"),
    ]
    theirs = [status for contact, status, _ in rows if contact == bystander.contact_id]
    assert sorted(theirs) == ["pending", "pending", "sent"]
    [(status, reason, due)] = await _rows(
        storage,
        sa.select(enrollments.c.status, enrollments.c.end_reason, enrollments.c.due_at).where(
            enrollments.c.contact_id == victim.contact_id
        ),
    )
    assert (status, reason, due) == ("exited", "contact forgotten", None)
    log = await _rows(
        storage,
        sa.select(funnel_log.c.kind, funnel_log.c.detail)
        .where(funnel_log.c.contact_id == victim.contact_id)
        .order_by(funnel_log.c.id),
    )
    assert log == [("entered", None), ("replied", None), ("exited", "contact forgotten")]
    [(event_status, error)] = await _rows(
        storage,
        sa.select(api_events.c.status, api_events.c.error).where(
            api_events.c.contact_id == victim.contact_id
        ),
    )
    assert (event_status, error) == ("failed", "contact forgotten")
    [survey] = await _rows(
        storage,
        sa.select(survey_responses.c.status, survey_responses.c.score).where(
            survey_responses.c.contact_id == victim.contact_id
        ),
    )
    assert tuple(survey) == ("expired", 2)  # the score stays for the reports


async def test_forget_writes_an_audit_line_without_the_data(
    storage: Storage, clock: FakeClock
) -> None:
    victim, _ = await _world(storage, clock)
    service = PrivacyService(storage.uow, clock)
    exported_at = clock.now()

    await service.export(parse_person_ref(f"email:{victim.secrets['email']}"), "alice")
    clock.advance(60)
    await service.forget(parse_person_ref(f"phone:{victim.secrets['phone']}"), "bob")

    audit = await _rows(
        storage,
        sa.select(
            privacy_audit.c.action, privacy_audit.c.contact_id, privacy_audit.c.actor,
            privacy_audit.c.at,
        ).order_by(privacy_audit.c.id),
    )  # fmt: skip
    assert [tuple(row) for row in audit] == [
        ("export", victim.contact_id, "alice", exported_at),
        ("forget", victim.contact_id, "bob", clock.now()),
    ]


async def test_the_forgotten_are_not_found_by_their_old_identifiers(
    storage: Storage, clock: FakeClock
) -> None:
    victim, _ = await _world(storage, clock)
    service = PrivacyService(storage.uow, clock)
    await service.forget(parse_person_ref(f"external:{victim.secrets['external id']}"), "x")

    for ref in (
        f"telegram:{victim.telegram_id}",
        f"email:{victim.secrets['email']}",
        f"phone:{victim.secrets['phone']}",
        f"external:{victim.secrets['external id']}",
    ):
        with pytest.raises(ContactNotFoundError, match="no contact is known as"):
            await service.forget(parse_person_ref(ref), "x")
    # By its id the anonymous remains can be forgotten again: nothing changes, nothing breaks.
    again = await service.forget(parse_person_ref(str(victim.contact_id)), "x")
    assert (again.suppressed_messages, again.ended_enrollments, again.erased_updates) == (0, 0, 0)
    async with storage.uow() as uow:
        contact = await uow.contacts.get(victim.contact_id)
    assert contact is not None
    assert (contact.display_name, contact.opted_out, contact.blocked) == (
        "Forgotten contact",
        True,
        True,
    )


async def test_the_shop_cannot_give_a_forgotten_contact_identifiers_again(
    storage: Storage, clock: FakeClock
) -> None:
    victim, _ = await _world(storage, clock)
    await PrivacyService(storage.uow, clock).forget(parse_person_ref(str(victim.contact_id)), "x")
    events = EventsService(storage.uow, clock)

    def body(key: str, contact: dict[str, object]) -> bytes:
        return json.dumps({"id": key, "type": "order_paid", "contact": contact}).encode()

    by_id = body("e1", {"id": victim.contact_id, "email": victim.secrets["email"]})
    with pytest.raises(EventError, match="was forgotten") as refused:
        await events.ingest(by_id)
    assert (refused.value.status, refused.value.field) == (422, "contact.id")
    # By the shop's identifiers the person is somebody new, with nothing of the old record.
    accepted = await events.ingest(body("e2", {"email": victim.secrets["email"]}))
    assert accepted.contact_created and accepted.event.contact_id != victim.contact_id


async def test_event_data_keeps_what_reports_read_and_drops_the_rest(
    storage: Storage, clock: FakeClock
) -> None:
    victim, bystander = await _world(storage, clock)
    await PrivacyService(storage.uow, clock).forget(parse_person_ref(str(victim.contact_id)), "x")

    def data_of(who: Person) -> sa.Select[tuple[object]]:
        return (
            sa.select(conversation_events.c.data)
            .where(conversation_events.c.conversation_id == who.conversation_id)
            .order_by(conversation_events.c.id)
        )

    assert [row[0] for row in await _rows(storage, data_of(victim))] == [
        {"team": "support"},
        {"reason": "asked"},  # the customer's tags dropped
        {"alert": "low_score", "score": 2},  # their comment dropped
    ]
    theirs = [row[0] for row in await _rows(storage, data_of(bystander))]
    assert theirs[2]["comment"] == bystander.secrets["survey comment"]
