"""A small world stored through the real repositories, for reports checked by hand.

The report period is the local week 2026-11-02 .. 2026-11-08 in Europe/Chisinau (UTC+2 in
November): `[2026-11-01 22:00 UTC, 2026-11-08 22:00 UTC)`. Rows at 23:30 UTC on 1 November are
inside it (01:30 local on the 2nd); rows at 21:00-21:40 UTC that day are outside (23:xx local on
the 1st). The tests say, next to each expected value, which rows make it.

Contacts of the service and funnel parts are created on 20 October (before the period), so only
the retention part's contacts are "created in the period".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.domain.clock import FakeClock
from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.domain.handoff import Agent, CloseReason, Handoff, HandoffReason, HandoffStatus
from bot.domain.model import (
    Channel,
    Conversation,
    Direction,
    KbDecisionKind,
    OutboundDraft,
    OutboundKind,
    OutboxStatus,
    Sender,
)
from bot.domain.surveys import SurveyKind, SurveyResponse, SurveyStatus
from bot.storage import Storage
from bot.storage.uow import SqlUnitOfWork

ZONE = "Europe/Chisinau"
FIRST_DAY, LAST_DAY = "2026-11-02", "2026-11-08"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BEFORE = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
TG, WEB = Channel.TELEGRAM, Channel.WEBCHAT
Ending = tuple[EnrollmentStatus, str | None, str | None, str | None]
LogRow = tuple[str | None, FunnelLogKind, datetime]
Settled = tuple[OutboxStatus, str | None]  # how the dispatcher left an outbox row, and why

# The outcomes of the funnel steps' messages (outbox rows), as the dispatcher records them.
SENT: Settled = (OutboxStatus.SENT, None)
PENDING: Settled = (OutboxStatus.PENDING, None)
NOT_FOUND: Settled = (OutboxStatus.FAILED, "400: Bad Request: chat not found")
BLOCKED_403: Settled = (OutboxStatus.FAILED, "403: Forbidden: bot was blocked by the user")
OPTED_OUT: Settled = (OutboxStatus.SUPPRESSED, "contact opted out of marketing messages")
BLOCKED: Settled = (OutboxStatus.SUPPRESSED, "contact blocked the bot")
LOST: Settled = (OutboxStatus.UNKNOWN, "process stopped during send; outcome unknown")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    storage: Storage
    clock: FakeClock
    uow: SqlUnitOfWork
    agents: dict[str, Agent] = field(default_factory=dict)
    enrollments: dict[str, int] = field(default_factory=dict)

    async def contact(self, name: str, created: datetime = BEFORE) -> int:
        self.clock.set(created)
        return (await self.uow.contacts.create(name, "en")).id

    async def chat(self, contact_id: int, channel: Channel, opened: datetime) -> Conversation:
        return await self.uow.conversations.create(contact_id, channel, opened)

    async def handoff(
        self, conversation: Conversation, requested: datetime, **fields: object
    ) -> None:
        values: dict[str, object] = {
            "id": 0,
            "conversation_id": conversation.id,
            "contact_id": conversation.contact_id,
            "team": "support",
            "language": "en",
            "reason": HandoffReason.CUSTOMER_ASKED,
            "status": HandoffStatus.QUEUED,
            "priority": 0,
            "requested_at": requested,
        }
        await self.uow.handoffs.add(Handoff(**{**values, **fields}))  # type: ignore[arg-type]

    async def survey(
        self,
        kind: SurveyKind,
        score: int,
        answered: datetime,
        contact_id: int,
        conversation: Conversation | None = None,
        agent: str | None = None,
        funnel: str | None = None,
    ) -> None:
        """An answered survey, about a hand-off's chat (agent, team) or a funnel."""
        sent = answered - timedelta(minutes=5)
        helper = self.agents.get(agent) if agent else None
        response = SurveyResponse(
            id=0,
            survey_id=f"{kind.value}_main",
            kind=kind,
            contact_id=contact_id,
            status=SurveyStatus.SENT,
            created_at=sent,
            sent_at=sent,
            expires_at=sent + timedelta(days=1),
            conversation_id=conversation.id if conversation else None,
            agent_id=helper.id if helper else None,
            team=(helper.teams[0] if helper else None),
            funnel_id=funnel,
        )
        stored = await self.uow.surveys.add(response)
        assert stored is not None
        stored.status, stored.score, stored.answered_at = SurveyStatus.ANSWERED, score, answered
        assert await self.uow.surveys.record_answer(stored)

    async def kb(self, conversation: Conversation, question: str, when: datetime,
                 article: str | None = None, helpful: bool | None = None) -> None:  # fmt: skip
        decision = KbDecisionKind.ANSWERED if article else KbDecisionKind.NO_ANSWER
        row = await self.uow.kb.add(
            conversation.contact_id, conversation.id, question, "en", decision, article,
            0.9 if article else None, [], when,
        )  # fmt: skip
        if helpful is not None:
            await self.uow.kb.set_feedback(row.id, helpful, when + timedelta(minutes=1))

    async def say(self, conversation: Conversation, text: str, when: datetime,
                  direction: Direction = Direction.INBOUND) -> None:  # fmt: skip
        sender = Sender.CUSTOMER if direction is Direction.INBOUND else Sender.BOT
        await self.uow.messages.add(
            conversation.id, conversation.contact_id, direction, sender, conversation.channel,
            text, when,
        )  # fmt: skip

    async def enroll(self, name: str, funnel: str, contact_id: int, entered: datetime,
                     **fields: object) -> int:  # fmt: skip
        values: dict[str, object] = {
            "id": 0, "funnel_id": funnel, "contact_id": contact_id,
            "status": EnrollmentStatus.RUNNING, "step_id": None, "due_at": None,
            "entered_at": entered, "updated_at": entered,
        }  # fmt: skip
        enrollment = Enrollment(**{**values, **fields})  # type: ignore[arg-type]
        stored = await self.uow.enrollments.add(enrollment)
        self.enrollments[name] = stored.id
        return stored.id

    async def log(self, name: str, funnel: str, contact_id: int, step: str | None,
                  kind: FunnelLogKind, when: datetime) -> None:  # fmt: skip
        entry = FunnelLogEntry(self.enrollments[name], funnel, contact_id, step, kind, when)
        await self.uow.funnel_log.add(entry)

    async def queue(self, name: str, contact_id: int, step: str, when: datetime,
                    *parts: Settled, version: int = 1) -> None:  # fmt: skip
        """The step's message as the funnel runner stores it (a long text in parts, `#n`),
        each part then settled as the dispatcher records it."""
        enrollment = self.enrollments[name]
        key = f"funnel:{enrollment}:{step}:{version}"
        for number, (status, reason) in enumerate(parts, start=1):
            draft = OutboundDraft(
                key=f"{key}#{number}" if len(parts) > 1 else key, contact_id=contact_id,
                channel=TG, address=str(contact_id), text=f"{step} {number}",
                kind=OutboundKind.FUNNEL, enrollment_id=enrollment, step_id=step,
            )  # fmt: skip
            row = await self.uow.outbox.add(draft, when)
            assert row is not None
            if status is OutboxStatus.SENT:
                await self.uow.outbox.finish(row.id, status, when, channel_message_id="m1")
            elif status is not OutboxStatus.PENDING:
                await self.uow.outbox.finish(row.id, status, when, reason=reason)


async def seed_service(w: World) -> None:
    """Hand-offs H1-H6, surveys S1-S9, knowledge-base answers A1-A4 and questions."""
    for key, team in (("alice", "support"), ("bob", "sales")):
        agent = Agent(id=0, key=key, name=key.title(), teams=[team])
        w.agents[key] = await w.uow.agents.upsert(agent)
    alice, bob = w.agents["alice"].id, w.agents["bob"].id
    closed = {"status": HandoffStatus.CLOSED}
    c1, c2, c3, c4, c5 = [await w.contact(f"C{i}") for i in range(1, 6)]
    # H1: telegram, alice; first response after 60 s, closed after 600 s; SLA kept.
    h1 = await w.chat(c1, TG, at(2, 9, 55))
    await w.handoff(h1, at(2, 10), agent_id=alice, first_response_at=at(2, 10, 1),
                    closed_at=at(2, 10, 10), close_reason=CloseReason.CLOSED,
                    sla_due_at=at(2, 10, 5), **closed)  # fmt: skip
    # H2: telegram, alice; 180 s, closed after 1800 s; SLA breached.
    h2 = await w.chat(c2, TG, at(3, 9, 55))
    await w.handoff(h2, at(3, 10), agent_id=alice, first_response_at=at(3, 10, 3),
                    closed_at=at(3, 10, 30), close_reason=CloseReason.CLOSED,
                    sla_due_at=at(3, 10, 2), sla_breached_at=at(3, 10, 2), **closed)  # fmt: skip
    # H3: web chat, bob, sales; 120 s, back to the bot after 1200 s; no SLA.
    h3 = await w.chat(c3, WEB, at(4, 9, 55))
    await w.handoff(h3, at(4, 10), team="sales", agent_id=bob,
                    first_response_at=at(4, 10, 2), closed_at=at(4, 10, 20),
                    close_reason=CloseReason.BACK_TO_BOT, **closed)  # fmt: skip
    # H4: web chat, bob, at 23:30 UTC on the 1st = 01:30 on the 2nd in Chisinau: inside.
    # 300 s; closed idle (not a resolution); SLA breached.
    h4 = await w.chat(c4, WEB, at(1, 23, 25))
    await w.handoff(h4, at(1, 23, 30), team="sales", agent_id=bob,
                    first_response_at=at(1, 23, 35), closed_at=at(1, 23, 45),
                    close_reason=CloseReason.IDLE, sla_due_at=at(1, 23, 32),
                    sla_breached_at=at(1, 23, 32), **closed)  # fmt: skip
    # H5: 21:30 UTC on the 1st = 23:30 local on the 1st: outside.
    h5 = await w.chat(c5, TG, at(1, 21, 25))
    await w.handoff(
        h5,
        at(1, 21, 30),
        agent_id=alice,
        first_response_at=at(
            1,
            21,
            30,
        ),
    )
    # H6: C1 again three days after H1 closed: H1 was not resolved at first contact.
    h6 = await w.chat(c1, TG, at(5, 8, 55))
    await w.handoff(h6, at(5, 9))
    # Surveys: CSAT 5, 4 (alice), 2, 5 (bob; S4 at 23:40 UTC on the 1st: the 2nd locally),
    # 1 outside; NPS 10, 8, 3 (welcome) and 9 (cart).
    await w.survey(SurveyKind.CSAT, 5, at(2, 10, 20), c1, h1, "alice")
    await w.survey(SurveyKind.CSAT, 4, at(3, 10, 40), c2, h2, "alice")
    await w.survey(SurveyKind.CSAT, 2, at(4, 10, 30), c3, h3, "bob")
    await w.survey(SurveyKind.CSAT, 5, at(1, 23, 40), c4, h4, "bob")
    await w.survey(SurveyKind.CSAT, 1, at(1, 21, 40), c5, h5, "alice")
    for score, when, funnel in ((10, at(5, 12), "welcome"), (8, at(6, 12), "welcome"),
                                (3, at(6, 13), "welcome"), (9, at(7, 12), "cart")):  # fmt: skip
        await w.survey(SurveyKind.NPS, score, when, c5, funnel=funnel)
    await _seed_knowledge(w)


async def _seed_knowledge(w: World) -> None:
    c7, c8, c9, c10 = [await w.contact(f"C{i}") for i in range(7, 11)]
    a1 = await w.chat(c7, TG, at(3, 8))
    await w.kb(a1, "when will my order arrive", at(3, 8, 1), "delivery", helpful=True)
    a2 = await w.chat(c8, TG, at(3, 9))
    await w.kb(a2, "delivery time?", at(3, 9, 1), "delivery")
    a3 = await w.chat(c9, WEB, at(4, 9))
    await w.kb(a3, "how do I return shoes", at(4, 9, 1), "returns", helpful=False)
    a4 = await w.chat(c10, WEB, at(4, 12))
    await w.kb(a4, "shipping to Moldova", at(4, 12, 1), "delivery")
    await w.chat(c10, WEB, at(9, 10))  # C10 came back 5 days later (after the period)
    questions = [
        "Where is my parcel?", "Where is my parcel?", "where is my parcel", "my parcel is late",
        "gift cards", "gift cards", "Do you sell gift cards?", "Can I pay with crypto",
    ]  # fmt: skip
    for minute, question in enumerate(questions):
        await w.kb(a1, question, at(6, 9, minute))
    await w.kb(a1, "an old question", at(1, 21))  # outside the period


async def seed_funnels(w: World) -> None:
    """Enrollments E1-E9 of the funnels "welcome" (steps hello, offer, reminder; A/B) and
    "cart" (step nudge)."""
    log = FunnelLogKind
    names = {}
    for name in ("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"):
        names[name] = await w.contact(name)
    chat = await w.chat(names["E1"], TG, datetime(2026, 10, 25, tzinfo=UTC))
    exited, goal = EnrollmentStatus.EXITED, "event order_paid"
    # name, funnel, entered, (status, variant, step at the end, end reason), log rows
    plan: list[tuple[str, str, datetime, Ending, list[LogRow]]] = [
        ("E1", "welcome", at(2, 10), (exited, "a", "offer", goal),
         [("hello", log.ENTERED, at(2, 10)), ("hello", log.SENT, at(2, 10)),
          ("offer", log.SENT, at(2, 11)), ("offer", log.GOAL, at(2, 12))]),
        ("E2", "welcome", at(3, 10), (exited, "a", "offer", "replied"),
         [("hello", log.SENT, at(3, 10)), ("offer", log.SENT, at(3, 11)),
          ("offer", log.REPLIED, at(3, 12)), ("offer", log.EXITED, at(3, 12))]),
        ("E3", "welcome", at(4, 10), (exited, "b", "reminder", goal),
         [("hello", log.SENT, at(4, 10)), ("offer", log.SENT, at(4, 11)),
          ("reminder", log.SENT, at(5, 9)), ("reminder", log.GOAL, at(5, 10))]),
        ("E4", "welcome", at(4, 11), (EnrollmentStatus.EXPIRED, "b", "hello", "expired: late"),
         [("hello", log.NOTIFIED, at(4, 11)), ("hello", log.EXPIRED, at(5, 11))]),
        ("E5", "welcome", at(5, 10), (EnrollmentStatus.RUNNING, "b", "offer", None),
         [("hello", log.SENT, at(5, 10))]),
        ("E6", "welcome", at(6, 10), (exited, "b", "offer", "replied"),
         [("hello", log.SENT, at(6, 10)), ("offer", log.SENT, at(6, 11)),
          ("offer", log.REPLIED, at(6, 12)), ("offer", log.EXITED, at(6, 12))]),
        ("E7", "welcome", at(1, 21), (exited, "a", "offer", goal),
         [("hello", log.SENT, at(1, 21)), ("offer", log.GOAL, at(1, 22))]),
        ("E8", "cart", at(1, 23, 30), (EnrollmentStatus.COMPLETED, None, None, None),
         [("nudge", log.SENT, at(1, 23, 30)), (None, log.COMPLETED, at(2, 1))]),
        ("E9", "cart", at(6, 10), (exited, None, "nudge", "opted_out"),
         [("nudge", log.SENT, at(6, 10)), ("nudge", log.EXITED, at(6, 11))]),
    ]  # fmt: skip
    for name, funnel, entered, (status, variant, step_id, reason), rows in plan:
        fields = {"status": status, "variant": variant, "step_id": step_id, "end_reason": reason}
        await w.enroll(name, funnel, names[name], entered, **fields)
        for step, kind, when in rows:
            await w.log(name, funnel, names[name], step, kind, when)
    # Button presses as the conversation stores them: E1 pressed twice (counted once); E7's
    # enrollment entered before the period (not counted); a reply button of another kind.
    for name, when in (("E1", at(2, 11, 30)), ("E1", at(2, 11, 31)), ("E7", at(2, 9))):
        await w.say(chat, f"[button] fn:{w.enrollments[name]}:offer:yes", when)
    await w.say(chat, "[button] kb:y:12", at(2, 11, 32))
    await _seed_step_messages(w, names)


async def _seed_step_messages(w: World, contacts: dict[str, int]) -> None:
    """What became of each queued step message (its outbox rows; see `Settled`)."""
    plan: list[tuple[str, str, datetime, tuple[Settled, ...], int]] = [
        # welcome/hello: E1, E2 delivered; E3 failed; E4's service message in two parts, the
        # second still pending; E5 suppressed; E6's outcome unknown.
        ("E1", "hello", at(2, 10), (SENT,), 1), ("E2", "hello", at(3, 10), (SENT,), 1),
        ("E3", "hello", at(4, 10), (NOT_FOUND,), 1),
        ("E4", "hello", at(4, 11), (SENT, PENDING), 1),
        ("E5", "hello", at(5, 10), (OPTED_OUT,), 1), ("E6", "hello", at(6, 10), (LOST,), 1),
        # welcome/offer: E1 delivered; E2 failed (blocked); E3 suppressed (blocked); E6's long
        # text delivered its first part and failed the second: failed.
        ("E1", "offer", at(2, 11), (SENT,), 1), ("E2", "offer", at(3, 11), (BLOCKED_403,), 1),
        ("E3", "offer", at(4, 11), (BLOCKED,), 1),
        ("E6", "offer", at(6, 11), (SENT, NOT_FOUND), 1),
        # welcome/reminder: E3 was sent it twice (a loop): delivered, then suppressed.
        ("E3", "reminder", at(5, 9), (SENT,), 1), ("E3", "reminder", at(5, 9, 30), (OPTED_OUT,), 2),
        # E7 entered before the period: its delivered hello is not counted.
        ("E7", "hello", at(1, 21), (SENT,), 1),
        # cart/nudge: E8 suppressed (blocked), E9 suppressed (opted out).
        ("E8", "nudge", at(1, 23, 30), (BLOCKED,), 1), ("E9", "nudge", at(6, 10), (OPTED_OUT,), 1),
    ]  # fmt: skip
    for name, step, when, parts, version in plan:
        await w.queue(name, contacts[name], step, when, *parts, version=version)
    # A reply to the same contact: no funnel step, not counted.
    reply = OutboundDraft("reply:e1:0", contacts["E1"], TG, "e1", "hi", OutboundKind.REPLY)
    assert await w.uow.outbox.add(reply, at(2, 12)) is not None


async def seed_retention(w: World) -> None:
    """Contacts R1-R6, five of them created in the period (R5 on the 1st, locally)."""
    r1 = await w.contact("R1", at(2, 12))
    r2 = await w.contact("R2", at(3, 12))
    r3 = await w.contact("R3", at(3, 13))
    await w.contact("R4", at(4, 12))  # never in a funnel, never wrote
    r5 = await w.contact("R5", at(1, 21))  # 23:00 on the 1st, locally: outside
    r6 = await w.contact("R6", at(4, 13))
    firsts = [("R1a", r1, "welcome"), ("R1b", r1, "cart"), ("R2", r2, "welcome"),
              ("R3", r3, "cart"), ("R5", r5, "cart"), ("R6", r6, "cart")]  # fmt: skip
    for name, contact, funnel in firsts:
        later = at(10, 10) + timedelta(minutes=len(w.enrollments))  # after the period
        await w.enroll(name, funnel, contact, later)
    chat1 = await w.chat(r1, TG, at(6, 8, 59))
    await w.say(chat1, "hello again", at(6, 9))  # after the quiet line (5th, 22:00): active
    chat2 = await w.chat(r2, TG, at(4, 8, 59))
    await w.say(chat2, "hi", at(4, 9))  # before the line: quiet
    await w.uow.api_events.add("order-r3", "order_paid", r3, {}, at(7, 12), at(7, 12))
    chat6 = await w.chat(r6, WEB, at(7, 9))
    await w.say(chat6, "our news", at(7, 9), Direction.OUTBOUND)  # ours: R6 stays quiet


async def seed_world(storage: Storage, clock: FakeClock) -> None:
    async with storage.uow() as uow:
        world = World(storage, clock, uow)
        await seed_service(world)
        await seed_funnels(world)
        await seed_retention(world)
        await uow.commit()
    clock.set(NOW)
