"""`export`: everything stored about the person, nothing about anybody else."""

from __future__ import annotations

import json

from bot.domain.clock import FakeClock
from bot.privacy import PrivacyService, parse_person_ref
from bot.storage.repositories.privacy_map import TABLE_PRIVACY, Handling
from bot.storage.uow import Storage
from tests.privacy.world import person, store_agent, store_person


async def test_the_export_holds_all_of_the_person_and_none_of_the_bystander(
    storage: Storage, clock: FakeClock
) -> None:
    agent_id = await store_agent(storage, clock.now())
    victim, bystander = person("Quux", 7700771234), person("Byst", 6600665678)
    for who in (victim, bystander):
        await store_person(storage, who, clock.now(), agent_id)

    document = await PrivacyService(storage.uow, clock).export(
        parse_person_ref(f"external:{victim.secrets['external id']}"), "dpo"
    )

    text = json.dumps(document, ensure_ascii=False)  # it is JSON, times included
    assert [what for what, value in victim.secrets.items() if value not in text] == []
    assert [what for what, value in bystander.secrets.items() if value in text] == []
    assert document["format"] == "nudge.contact-export/1"
    assert document["tags"] == [victim.secrets["tag"]]
    assert document["contact"]["id"] == victim.contact_id
    assert document["privacy_audit"] == []  # this export's own line is written after reading
    personal = {
        name
        for name, rule in TABLE_PRIVACY.items()
        if rule.handling not in (Handling.KEPT, Handling.STAFF)
    }
    # `contacts` is the one "contact"; settings entries are pointers, not data about them.
    assert personal - {"contacts", "settings"} <= set(document)
    counts = {name: len(document[name]) for name in ("messages", "outbox", "inbound_updates")}
    assert counts == {"messages": 2, "outbox": 3, "inbound_updates": 3}
