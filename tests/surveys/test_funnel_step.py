"""A funnel's `survey:` step, run by the real funnel runner with surveys wired in as the app
wires them (`runner.surveys`)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.funnel_ports import FunnelLogKind
from bot.domain.model import Channel, OutboundKind
from bot.domain.surveys import SurveyKind, SurveyStatus
from bot.funnel.db_ports import FunnelRules
from bot.funnel.hooks import FunnelHooks
from bot.funnel.library import FunnelLibrary
from bot.funnel.runner import FunnelRunner
from bot.rendering import Renderer
from bot.storage.uow import Storage
from bot.surveys.catalog import SurveyLibrary
from bot.surveys.service import SurveyRules, SurveyService
from tests.surveys.world import SURVEYS, TEMPLATES

FUNNEL = """
id: after_purchase
trigger: {event: order_delivered}
marketing: false
steps:
  - id: ask
    survey: nps_after_purchase
"""


async def _setup(
    storage: Storage, clock: FakeClock, folder: Path, funnel: str = FUNNEL
) -> tuple[SurveyService, int]:
    (folder / "after_purchase.yaml").write_text(textwrap.dedent(funnel))
    renderer = Renderer(TEMPLATES, "en")
    outbox = Outbox({Channel.TELEGRAM: 4096})
    funnels = FunnelLibrary(folder, renderer)
    funnels.refresh()
    surveys = SurveyLibrary(SURVEYS, renderer)
    surveys.refresh()
    runner = FunnelRunner(
        storage.uow, funnels.current, renderer, outbox, FunnelRules("UTC", "en", None), clock
    )
    service = SurveyService(SurveyRules(), surveys.current, renderer, outbox, clock)
    runner.surveys = service
    async with storage.uow() as uow:
        contact = await uow.contacts.create("Ion", "ro")
        await uow.identities.add(contact.id, Channel.TELEGRAM, "77", "77", None)
        await uow.commit()
    hooks = FunnelHooks(runner, funnels.current)
    async with storage.uow() as uow:
        assert await hooks.on_event(uow, contact.id, "order_delivered", {}, clock.now()) == 1
        await uow.commit()
    await runner.tick()
    return service, contact.id


async def test_a_funnel_step_sends_the_survey(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    _, contact_id = await _setup(storage, clock, tmp_path)
    async with storage.uow() as uow:
        [response] = await uow.surveys.for_contact(contact_id)
        enrollment = await uow.enrollments.last_for(contact_id, "after_purchase")
        rows = await uow.outbox.claim_due(clock.now(), 100)
        log = [e.kind for e in await uow.funnel_log.for_enrollment(enrollment.id)]
    assert (response.survey_id, response.kind) == ("nps_after_purchase", SurveyKind.NPS)
    assert (response.funnel_id, response.enrollment_id) == ("after_purchase", enrollment.id)
    assert response.status is SurveyStatus.SENT and response.sent_at == clock.now()
    [question] = rows
    assert question.kind is OutboundKind.SURVEY
    # The question is the step's message: the funnel report counts what became of it.
    assert (question.enrollment_id, question.step_id) == (enrollment.id, "ask")
    assert question.text.startswith("Ion, cât de probabil")
    assert [[b.text for b in row] for row in question.buttons] == [
        ["0", "1", "2", "3", "4", "5"],
        ["6", "7", "8", "9", "10"],
    ]
    assert FunnelLogKind.NOTIFIED in log


async def test_a_funnel_survey_answer_without_a_chat_flags_the_new_one(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    service, contact_id = await _setup(storage, clock, tmp_path)
    async with storage.uow() as uow:
        [response] = await uow.surveys.for_contact(contact_id)
        contact = await uow.contacts.get(contact_id)
        assert contact is not None and response.conversation_id is None
        chat = await uow.conversations.create(contact_id, Channel.TELEGRAM, clock.now())
        reply = await service.answer(uow, contact, f"sv:{response.id}:3", clock.now())
        await uow.commit()
    assert reply is not None
    assert reply.texts == (
        "Vă mulțumim pentru sinceritate. Ce ar trebui să îmbunătățim mai întâi?",
    )
    async with storage.uow() as uow:
        answered = await uow.surveys.get(response.id)
        events = await uow.events.for_conversation(chat.id)
    assert answered is not None and answered.conversation_id == chat.id
    assert answered.low_score and answered.funnel_id == "after_purchase"
    assert [e.data["score"] for e in events] == [3]


async def test_a_message_sent_before_the_survey_step_goes_out_before_the_question(
    storage: Storage, clock: FakeClock, tmp_path: Path
) -> None:
    funnel = FUNNEL.replace("steps:\n", "steps:\n  - id: hello\n    send: funnel_welcome_hello\n")
    _, contact_id = await _setup(storage, clock, tmp_path, funnel)
    async with storage.uow() as uow:
        rows = sorted(await uow.outbox.claim_due(clock.now(), 100), key=lambda row: row.id)
    assert [(row.step_id, row.kind) for row in rows] == [
        ("hello", OutboundKind.SYSTEM),
        ("ask", OutboundKind.SURVEY),
    ]
    assert all(row.contact_id == contact_id for row in rows)
