"""The data set of bench/reports.py: a shop's half year, bulk-inserted in seconds.

Rows are generated in Python from a fixed seed and written with one `executemany` per table in
one transaction (SQLite) or `COPY` (PostgreSQL), with explicit ids so the references line up.
Every table a report reads is filled with realistic proportions: per conversation 10 messages
(half from the customer, 2 % of those funnel button presses), one knowledge-base question, a
hand-off for one in five, a survey answer for three in four hand-offs; enrollments in three
funnels with A/B variants and 4 funnel-log rows each; paid orders for one contact in five; an
outbox row for every message we sent (the bot's replies, and each funnel step's message linked
to its enrollment and step: 93 % delivered, 2 % failed, 3 % suppressed, 1 % pending, 1 %
unknown).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DAYS = 180
FUNNELS = {"welcome": ["hello", "offer", "reminder"], "cart": ["nudge", "coupon"],
           "winback": ["miss_you", "offer"]}  # fmt: skip
TOPICS = ["parcel", "refund", "invoice", "password", "discount", "warranty", "size",
          "store", "gift card", "crypto", "delivery time", "return label", "exchange",
          "tracking"]  # fmt: skip
PHRASES = ["where is my {t}", "how do I get a {t}", "{t} question", "problem with {t}",
           "can you help with {t} please", "what about the {t}"]  # fmt: skip


Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class TableRows:
    table: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Scale:
    messages: int = 1_000_000
    enrollments: int = 100_000

    @property
    def conversations(self) -> int:
        return self.messages // 10

    @property
    def contacts(self) -> int:
        return max(self.conversations // 2, 1)


def generate(scale: Scale, now: datetime) -> Iterator[TableRows]:
    rng = random.Random(6)
    start = now - timedelta(days=DAYS)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(DAYS * 86400))

    # Rows get their ids in time order, as in a live database (appended as things happen): a
    # period is then a narrow range of each table, not rows scattered all over it.
    created = sorted(moment() for _ in range(scale.contacts))
    yield TableRows("contacts", ("id", "display_name", "language", "opted_out", "blocked",
                                 "attributes", "created_at", "updated_at"),
                    [(i + 1, f"c{i}", "en", False, False, "{}", at, at)
                     for i, at in enumerate(created)])  # fmt: skip
    agents = [(i + 1, f"agent{i}", f"Agent {i}", "agent", "[]", json.dumps([f"team{i % 4}"]), 5,
               False, True, start, start) for i in range(20)]  # fmt: skip
    yield TableRows("agents", ("id", "key", "name", "role", "languages", "teams", "max_chats",
                               "trainee", "active", "created_at", "updated_at"),
                    agents)  # fmt: skip
    opens = sorted((max(created[i % scale.contacts], moment()), i % scale.contacts)
                   for i in range(scale.conversations))  # fmt: skip
    chats = [(i + 1, contact + 1, "closed", "telegram" if i % 3 else "webchat", opened)
             for i, (opened, contact) in enumerate(opens)]  # fmt: skip
    yield TableRows("conversations", ("id", "contact_id", "status", "channel", "opened_at",
                                      "updated_at"),
                    [(*c, c[4]) for c in chats])  # fmt: skip
    enrollments, log = _funnels(rng, scale, created, moment)
    messages = _messages(rng, chats, scale.enrollments)
    yield messages
    yield from _service(rng, chats)
    yield enrollments
    yield log
    yield _outbox(rng, messages, log)  # after the enrollments its rows refer to
    paid = sorted((moment(), rng.randrange(scale.contacts) + 1) for _ in range(scale.contacts // 5))
    orders = [(i + 1, f"order-{i}", "order_paid", contact, "{}", at, at, "processed")
              for i, (at, contact) in enumerate(paid)]  # fmt: skip
    yield TableRows("api_events", ("id", "key", "type", "contact_id", "data", "occurred_at",
                                   "received_at", "status"), orders)  # fmt: skip


def _messages(rng: random.Random, chats: list[tuple[Any, ...]], enrollments: int) -> TableRows:
    rows: list[Row] = []
    for chat_id, contact, _status, channel, opened in chats:
        for k in range(10):
            inbound = k % 2 == 0
            text = "hello, a question about my order" if inbound else "thanks, here you go"
            if inbound and rng.random() < 0.02:
                text = f"[button] fn:{rng.randrange(enrollments) + 1}:offer:yes"
            rows.append((len(rows) + 1, chat_id, contact, "in" if inbound else "out",
                         "customer" if inbound else "bot", channel, text,
                         opened + timedelta(minutes=3 * k)))  # fmt: skip
    return TableRows("messages", ("id", "conversation_id", "contact_id", "direction", "sender",
                                  "channel", "text", "created_at"), rows)  # fmt: skip


# How a funnel step's message ended: (share, status, reason), the rest delivered.
STEP_OUTCOMES = [
    (0.012, "failed", "400: Bad Request: chat not found"),
    (0.008, "failed", "403: Forbidden: bot was blocked by the user"),
    (0.021, "suppressed", "contact opted out of marketing messages"),
    (0.009, "suppressed", "contact blocked the bot"),
    (0.01, "pending", None),
    (0.01, "unknown", "process stopped during send; outcome unknown"),
]


def _step_outcome(rng: random.Random) -> tuple[str, str | None]:
    roll = rng.random()
    for share, status, reason in STEP_OUTCOMES:
        if roll < share:
            return status, reason
        roll -= share
    return "sent", None


def _outbox(rng: random.Random, messages: TableRows, log: TableRows) -> TableRows:
    """One row per message we sent: the bot's side of each chat, and every funnel `sent` log
    row (linked to its enrollment and step), in time order."""
    sends: list[tuple[Any, ...]] = []
    for message_id, _chat, contact, direction, _sender, channel, _text, at in messages.rows:
        if direction == "out":
            sends.append((at, f"reply:{message_id}", contact, channel, "reply", 0,
                          "sent", None, None, None))  # fmt: skip
    for _id, enrollment, _funnel, contact, step, kind, _variant, at in log.rows:
        if kind == "sent":
            status, reason = _step_outcome(rng)
            sends.append((at, f"funnel:{enrollment}:{step}:1", contact, "telegram", "funnel", 2,
                          status, reason, enrollment, step))  # fmt: skip
    sends.sort(key=lambda send: send[0])
    rows = [
        (i + 1, key, contact, channel, str(contact), "text", "[]", kind, priority, status, at, 1,
         reason, at, at, at if status == "sent" else None, enrollment, step)
        for i, (at, key, contact, channel, kind, priority, status, reason, enrollment, step)
        in enumerate(sends)
    ]  # fmt: skip
    return TableRows("outbox", ("id", "key", "contact_id", "channel", "address", "text",
                                "buttons", "kind", "priority", "status", "not_before",
                                "attempts", "reason", "created_at", "updated_at", "sent_at",
                                "enrollment_id", "step_id"), rows)  # fmt: skip


def _service(rng: random.Random, chats: list[tuple[Any, ...]]) -> Iterator[TableRows]:
    handoffs: list[Row] = []
    surveys: list[Row] = []
    questions: list[Row] = []
    for chat_id, contact, _status, _channel, opened in chats:
        roll = rng.random()
        decision = "answered" if roll < 0.7 else "no_answer" if roll < 0.9 else "offered_choices"
        question = rng.choice(PHRASES).format(t=rng.choice(TOPICS))
        article = f"article-{rng.randrange(50)}" if decision == "answered" else None
        helpful = rng.choice([True, False, None, None])
        questions.append((len(questions) + 1, contact, chat_id, question, "en", decision,
                          article, "[]", helpful, opened + timedelta(minutes=1)))  # fmt: skip
        if rng.random() >= 0.2:
            continue
        agent = rng.randrange(20) + 1
        asked = opened + timedelta(minutes=5)
        first = asked + timedelta(seconds=rng.randrange(30, 1800))
        closed = first + timedelta(seconds=rng.randrange(300, 7200))
        breached = first if rng.random() < 0.1 else None
        handoffs.append((len(handoffs) + 1, chat_id, contact, f"team{agent % 4}", "en",
                         "customer_asked", "closed", 0, asked, asked + timedelta(minutes=10),
                         agent, "[]", first, breached, closed, "closed"))  # fmt: skip
        if rng.random() < 0.75:
            kind = rng.choice(["csat", "csat", "nps"])
            score = rng.randrange(1, 6) if kind == "csat" else rng.randrange(0, 11)
            surveys.append((len(surveys) + 1, f"{kind}_main", kind, contact, chat_id,
                            len(handoffs), agent, f"team{agent % 4}", "answered", score,
                            score <= 2, False, False, closed, closed, closed + timedelta(days=1),
                            closed + timedelta(minutes=7)))  # fmt: skip
    yield TableRows("handoffs", ("id", "conversation_id", "contact_id", "team", "language",
                                 "reason", "status", "priority", "requested_at", "sla_due_at",
                                 "agent_id", "declined_by", "first_response_at",
                                 "sla_breached_at", "closed_at", "close_reason"),
                    handoffs)  # fmt: skip
    yield TableRows("kb_interactions", ("id", "contact_id", "conversation_id", "question",
                                        "language", "decision", "article_id", "candidates",
                                        "helpful", "created_at"), questions)  # fmt: skip
    yield TableRows("survey_responses", ("id", "survey_id", "kind", "contact_id",
                                         "conversation_id", "handoff_id", "agent_id", "team",
                                         "status", "score", "low_score", "awaiting_comment",
                                         "follow_up_pending", "created_at", "sent_at",
                                         "expires_at", "answered_at"), surveys)  # fmt: skip


def _funnels(rng: random.Random, scale: Scale, created: list[datetime],
             moment: Any) -> tuple[TableRows, TableRows]:  # fmt: skip
    enrollments: list[Row] = []
    log: list[Row] = []
    names = list(FUNNELS)
    who = [rng.randrange(scale.contacts) for _ in range(scale.enrollments)]
    starts = sorted((max(created[c], moment()), c) for c in who)
    for i, (entered, contact) in enumerate(starts):
        funnel = names[i % len(names)]
        steps = FUNNELS[funnel]
        variant = rng.choice(["a", "b"]) if funnel == "welcome" else None
        reached = rng.randrange(1, len(steps) + 1)
        goal = rng.random() < 0.15
        status = "exited" if goal else rng.choice(["exited", "completed", "expired", "running"])
        ended = None if status == "running" else entered + timedelta(hours=reached * 20)
        reason = "event order_paid" if goal else "replied" if status == "exited" else None
        enrollments.append((i + 1, funnel, contact + 1, status, steps[reached - 1], "{}", "{}",
                            variant, entered, entered, ended, reason, 1))  # fmt: skip
        log.append(
            (len(log) + 1, i + 1, funnel, contact + 1, steps[0], "entered", variant, entered)
        )
        for n, step in enumerate(steps[:reached]):
            log.append((len(log) + 1, i + 1, funnel, contact + 1, step, "sent", variant,
                        entered + timedelta(hours=20 * n)))  # fmt: skip
        if goal:
            log.append((len(log) + 1, i + 1, funnel, contact + 1, steps[reached - 1], "goal",
                        variant, ended))  # fmt: skip
    return (
        TableRows("enrollments", ("id", "funnel_id", "contact_id", "status", "step_id", "event",
                                  "variables", "variant", "entered_at", "updated_at", "ended_at",
                                  "end_reason", "version"), enrollments),
        TableRows("funnel_log", ("id", "enrollment_id", "funnel_id", "contact_id", "step_id",
                                 "kind", "variant", "at"), log),
    )  # fmt: skip
