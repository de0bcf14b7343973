"""The dashboard benchmark's world: hand-offs with CSAT answers, NPS answers, knowledge-base
questions (answered and not) and funnel enrollments, spread over 90 days, stored through the
real repositories (bench/dashboard.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.domain.handoff import Agent, AgentRole, CloseReason, Handoff, HandoffReason, HandoffStatus
from bot.domain.model import Channel, KbDecisionKind
from bot.domain.surveys import SurveyKind, SurveyResponse, SurveyStatus
from bot.storage.uow import SqlUnitOfWork, Storage
from bot.web.console.passwords import hash_password

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAYS = 90
ZONE = "Europe/Chisinau"
FUNNELS = {f"funnel_{n}": [f"step_{s}" for s in range(5)] for n in range(4)}
PASSWORD = "bench password 123"
TOPICS = (
    "parcel|refund|invoice|crypto|gift card|warranty|size|colour|store hours|discount|password|"
    "address|delivery|cancel|exchange"
).split("|")
WORDINGS = ["where is my {}", "{} please", "how do I get a {}", "question about {}", "{}?"]


def moment(rng: random.Random) -> datetime:
    return NOW - timedelta(seconds=rng.uniform(60, DAYS * 86400))


async def seed_service(uow: SqlUnitOfWork, rng: random.Random, handoffs: int) -> None:
    """Hand-offs (two in three with a CSAT answer), NPS answers, knowledge-base questions."""
    agent = await uow.agents.upsert(Agent(0, "alice", "Alice", teams=["support"]))
    for n in range(handoffs):
        contact = await uow.contacts.create(f"C{n}", "en")
        asked = moment(rng)
        chat = await uow.conversations.create(contact.id, Channel.TELEGRAM, asked)
        first = asked + timedelta(seconds=rng.lognormvariate(5, 1))
        await uow.handoffs.add(
            Handoff(
                0,
                chat.id,
                contact.id,
                "support",
                "en",
                HandoffReason.CUSTOMER_ASKED,
                HandoffStatus.CLOSED,
                0,
                asked,
                sla_due_at=asked + timedelta(minutes=5),
                agent_id=agent.id,
                first_response_at=first,
                sla_breached_at=asked + timedelta(minutes=5)
                if first - asked > timedelta(minutes=5)
                else None,
                closed_at=first + timedelta(minutes=rng.uniform(5, 90)),
                close_reason=CloseReason.CLOSED,
            )
        )
        if n % 3:
            await _answer(
                uow,
                contact.id,
                SurveyKind.CSAT,
                rng.choice([1, 3, 4, 4, 5, 5]),
                first + timedelta(hours=1),
                chat.id,
                agent.id,
            )
        if n % 5 == 0:
            await _answer(uow, contact.id, SurveyKind.NPS, rng.randint(0, 10), moment(rng))
        for _ in range(2):
            topic = rng.choice(TOPICS)
            article = topic.replace(" ", "_") if rng.random() < 0.6 else None
            decision = KbDecisionKind.ANSWERED if article else KbDecisionKind.NO_ANSWER
            question = rng.choice(WORDINGS).format(topic)
            await uow.kb.add(
                contact.id,
                chat.id,
                question,
                "en",
                decision,
                article,
                0.9 if article else None,
                [],
                moment(rng),
            )


async def _answer(
    uow: SqlUnitOfWork,
    contact_id: int,
    kind: SurveyKind,
    score: int,
    answered: datetime,
    chat_id: int | None = None,
    agent_id: int | None = None,
) -> None:
    sent = answered - timedelta(minutes=5)
    stored = await uow.surveys.add(
        SurveyResponse(
            id=0,
            survey_id=f"{kind.value}_main",
            kind=kind,
            contact_id=contact_id,
            status=SurveyStatus.SENT,
            created_at=sent,
            sent_at=sent,
            expires_at=sent + timedelta(days=1),
            conversation_id=chat_id,
            agent_id=agent_id,
            team="support" if agent_id else None,
        )
    )
    assert stored is not None
    stored.status, stored.score, stored.answered_at = SurveyStatus.ANSWERED, score, answered
    await uow.surveys.record_answer(stored)


async def seed_funnels(uow: SqlUnitOfWork, rng: random.Random, enrollments: int) -> None:
    """Enrollments spread over the funnels, each reaching a few steps and ending somewhere."""
    for n in range(enrollments):
        funnel, steps = rng.choice(list(FUNNELS.items()))
        contact = await uow.contacts.create(f"E{n}", "en")
        entered = moment(rng)
        reached = 1 + min(int(rng.expovariate(0.7)), len(steps) - 1)
        goal = rng.random() < 0.2
        status = EnrollmentStatus.EXITED if goal or rng.random() < 0.7 else EnrollmentStatus.RUNNING
        stored = await uow.enrollments.add(
            Enrollment(
                id=0,
                funnel_id=funnel,
                contact_id=contact.id,
                status=status,
                step_id=steps[reached - 1],
                due_at=None,
                entered_at=entered,
                updated_at=entered,
                variant=rng.choice("ab"),
                end_reason="event order_paid" if goal else "replied",
            )
        )
        for index, step in enumerate(steps[:reached]):
            at = entered + timedelta(hours=index)
            await uow.funnel_log.add(
                FunnelLogEntry(stored.id, funnel, contact.id, step, FunnelLogKind.SENT, at)
            )
        if goal:
            await uow.funnel_log.add(
                FunnelLogEntry(
                    stored.id,
                    funnel,
                    contact.id,
                    steps[reached - 1],
                    FunnelLogKind.GOAL,
                    entered + timedelta(hours=reached),
                )
            )


async def seed(storage: Storage, handoffs: int, enrollments: int) -> None:
    rng = random.Random(6)
    async with storage.uow() as uow:
        await seed_service(uow, rng, handoffs)
        await seed_funnels(uow, rng, enrollments)
        boss = await uow.agents.upsert(Agent(0, "boss", "Boss", AgentRole.SUPERVISOR))
        await uow.agents.set_password_hash(boss.id, hash_password(PASSWORD))
        await uow.commit()
