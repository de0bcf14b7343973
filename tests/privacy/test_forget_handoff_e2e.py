"""End to end through a hand-off: the customer (aiogram) talks to an agent in the agents' desk
(python-telegram-bot), rates the chat low and says why; then `forget`. A dump of the database
afterwards holds none of the customer's identity or words, including the copies the desk, the
hand-off, the survey and its alert made of them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.privacy import PrivacyService, parse_person_ref
from bot.storage.survey_tables import survey_responses
from bot.storage.tables import conversation_events
from tests.e2e.conftest import TOKEN, Harness, fake_telegram, harness, let_time_pass
from tests.e2e.test_handoff import ALICE, CUSTOMER, open_desk
from tests.privacy.world import dump_database

__all__ = ["fake_telegram", "harness"]  # the e2e fixtures, used by name

SECRETS = {
    "first name": "Quimbyxo",
    "last name": "Zorbatron",
    "username": "quimby_zz77",
    "telegram id": str(CUSTOMER),
    "question": "parcel ZX-4471",
    "address": "Zorbastrasse",
    "agent's reply naming them": "ZX-4471 left the depot",
    "survey comment": "Zorbacomment was slow",
}


async def test_a_handed_off_and_surveyed_customer_is_forgotten(harness: Harness) -> None:
    desk = await open_desk(harness)
    desk.users[CUSTOMER] = harness.fake.add_user(
        CUSTOMER, "Quimbyxo", "Zorbatron", "quimby_zz77", "en"
    )
    await desk.customer_says("I want to talk to an operator about parcel ZX-4471")
    await desk.agent_presses(ALICE, "Take")
    await desk.agent_writes(ALICE, "Quimbyxo, ZX-4471 left the depot this morning.")
    await desk.customer_says("thanks, I am at Zorbastrasse 7")
    await desk.agent_presses(ALICE, "Close")
    harness.clock.advance(timedelta(minutes=11))  # the survey goes out after the chat closed
    await let_time_pass(desk.app, harness.clock)
    question = desk.fake.sent_messages(TOKEN, chat_id=CUSTOMER)[-1]
    [score_one, *_] = question.reply_markup["inline_keyboard"][0]
    await desk.fake.press_button(TOKEN, desk.users[CUSTOMER], question, score_one["callback_data"])
    desk.customer_updates += 1
    await let_time_pass(desk.app, harness.clock)
    await desk.customer_says("Zorbacomment was slow")

    answer = sa.select(survey_responses.c.score, survey_responses.c.comment)
    alert = sa.select(conversation_events.c.data).where(conversation_events.c.kind == "low_score")
    async with desk.app.storage.engine.connect() as conn:
        answers = [tuple(row) for row in await conn.execute(answer)]
        alerts = [data.get("comment") for data in (await conn.execute(alert)).scalars()]
    assert answers == [(1, SECRETS["survey comment"])]  # the survey really ran, comment and all
    assert SECRETS["survey comment"] in alerts  # and its alert copied the comment
    before = await dump_database(harness.db_url)
    assert [what for what, value in SECRETS.items() if value not in before] == []

    service = PrivacyService(desk.app.storage.uow, desk.app.clock)
    await service.forget(parse_person_ref(f"telegram:{CUSTOMER}"), "dpo")

    after = await dump_database(harness.db_url)
    assert {what: value for what, value in SECRETS.items() if value in after} == {}
    assert "Alice" in after  # the agents' own data stays: only the customer was forgotten
