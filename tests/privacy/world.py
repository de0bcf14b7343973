"""A person stored in every table that can hold them, with strings found nowhere else.

Rows are written with SQLAlchemy Core, column by column, so that every personal column of
every table is filled (the services would fill only some of them in any one story). Each
person's strings carry their own marker, so a dump can be searched for one person and not the
other: the forgotten one must vanish, the bystander must stay whole.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import make_url

from bot.storage.survey_tables import survey_responses
from bot.storage.tables import (
    agents,
    api_events,
    channel_identities,
    contacts,
    conversation_events,
    conversations,
    coupon_codes,
    enrollments,
    funnel_log,
    handoffs,
    held_replies,
    inbound_updates,
    kb_interactions,
    messages,
    outbox,
    settings,
    webhook_deliveries,
)
from bot.storage.uow import Storage


@dataclass
class Person:
    """The ids of a stored person and every string that identifies them or is theirs."""

    marker: str
    telegram_id: int
    contact_id: int = 0
    conversation_id: int = 0
    pending_outbox_id: int = 0
    enrollment_id: int = 0
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return self.secrets["web chat token"]


def person(marker: str, telegram_id: int) -> Person:
    m = marker
    secrets = {
        "name": f"Zebulon {m}",
        "username": f"zeb_{m.lower()}",
        "telegram id": str(telegram_id),
        "phone": f"+1555010{telegram_id % 10000:04d}",
        "email": f"zeb.{m.lower()}@example.org",
        "external id": f"shop-cust-{m}-881",
        "start payload": f"promo_{m}",
        "time zone": "Pacific/Chatham" if m == "Quux" else "Asia/Kathmandu",
        "attribute": f"{m}ville",
        "tag": f"vip-{m}",
        "web chat token": f"tok_{m}_visitor-abc_123",
        "inbound text": f"my parcel goes to 12 {m} street",
        "inbound raw text": f"raw update text {m}",
        "web chat text": f"typed on the site by {m}",
        "outbound text": f"Hello {m}, your order shipped",
        "pending text": f"Come back {m}, 10% off",
        "kb question": f"where is parcel {m}-5521",
        "survey comment": f"agent was rude to {m}",
        "event data": f"{m} cart item",
        "desk title": f"Topic of {m}",
        "summary": f"{m} wants a refund",
        "held reply": f"Dear {m}, refund approved",
        "held final": f"Dear {m}, refund done",
        "event text": f"note about {m}",
        "enrollment event": f"{m}-cart-993",
        "enrollment variable": f"first-{m}",
        "button data": f"btn-{m}",
        "funnel reply": f"yes please, {m} wants it",
    }
    return Person(marker=marker, telegram_id=telegram_id, secrets=secrets)


async def _insert(conn: sa.ext.asyncio.AsyncConnection, table: sa.Table, **values: Any) -> int:
    result = await conn.execute(table.insert().values(**values).returning(table.c.id))
    return int(result.scalar_one())


async def store_person(storage: Storage, who: Person, at: datetime, agent_id: int) -> None:
    """Write `who` into every table that holds people; fills in the ids."""
    s = who.secrets
    async with storage.engine.begin() as conn:
        cid = await _insert(
            conn, contacts, display_name=s["name"], language="en", timezone=s["time zone"],
            opted_out=False, blocked=False, start_payload=s["start payload"],
            attributes={"tags": [s["tag"]], "city": s["attribute"]}, created_at=at,
            updated_at=at, external_id=s["external id"], phone=s["phone"], email=s["email"],
        )  # fmt: skip
        who.contact_id = cid
        for channel, key in (("telegram", s["telegram id"]), ("webchat", who.token)):
            username = s["username"] if channel == "telegram" else None
            await _insert(
                conn, channel_identities, contact_id=cid, channel=channel, external_id=key,
                address=key, username=username, blocked=False,
            )  # fmt: skip
        conv = await _insert(
            conn, conversations, contact_id=cid, status="bot", channel="telegram",
            opened_at=at, updated_at=at,
        )  # fmt: skip
        who.conversation_id = conv
        await _messages_and_outbox(conn, who, at)
        await _inbound(conn, who, at)
        await _support(conn, who, at, agent_id)
        await _marketing(conn, who, at)
        await _settings(conn, who)


async def _messages_and_outbox(conn: Any, who: Person, at: datetime) -> None:
    s, cid, conv = who.secrets, who.contact_id, who.conversation_id
    common = {"contact_id": cid, "conversation_id": conv, "channel": "telegram", "attempts": 0}
    sent = await _insert(
        conn, outbox, key=f"reply:telegram:{who.telegram_id % 1000}:0#1", address=s["telegram id"],
        text=s["outbound text"], buttons=[[{"text": "ok", "data": s["button data"]}]],
        kind="reply", priority=0, status="sent", not_before=at, created_at=at, updated_at=at,
        sent_at=at, channel_message_id="9001", **common,
    )  # fmt: skip
    who.pending_outbox_id = await _insert(
        conn, outbox, key=f"funnel:{cid}:later:1", address=s["telegram id"],
        text=s["pending text"], buttons=[], kind="funnel", priority=2, status="pending",
        not_before=at + timedelta(days=1), created_at=at, updated_at=at, **common,
    )  # fmt: skip
    await _insert(
        conn, outbox, key=f"reply:webchat:{who.token}:c1:0#1", address=who.token,
        text=s["outbound text"] + " (web)", buttons=[], kind="reply", priority=0,
        status="pending", not_before=at, created_at=at, updated_at=at,
        **{**common, "channel": "webchat"},
    )  # fmt: skip
    for direction, sender, text, outbox_id in (
        ("in", "customer", s["inbound text"], None),
        ("out", "bot", s["outbound text"], sent),
    ):
        await _insert(
            conn, messages, conversation_id=conv, contact_id=cid, direction=direction,
            sender=sender, channel="telegram", text=text, channel_message_id="9001",
            outbox_id=outbox_id, created_at=at,
        )  # fmt: skip


def telegram_update(who: Person, update_id: int, text: str) -> dict[str, Any]:
    s = who.secrets
    user = {"id": who.telegram_id, "is_bot": False, "first_name": s["name"]}
    chat = {"id": who.telegram_id, "type": "private", "first_name": s["name"]}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5, "date": 1767600000, "text": text,
            "from": {**user, "username": s["username"], "language_code": "en"}, "chat": chat,
        },
    }  # fmt: skip


async def _inbound(conn: Any, who: Person, at: datetime) -> None:
    s = who.secrets
    for update_id, status in ((who.telegram_id + 1, "processed"), (who.telegram_id + 2, "pending")):
        await _insert(
            conn, inbound_updates, channel="telegram", external_key=str(update_id),
            payload=telegram_update(who, update_id, s["inbound raw text"]), status=status,
            received_at=at, conversation_key=f"telegram:{who.telegram_id}",
        )  # fmt: skip
    web = {"visitor_token": who.token, "client_id": "c1", "type": "message"}
    await _insert(
        conn, inbound_updates, channel="webchat", external_key=f"{who.token}:c1",
        payload={**web, "text": s["web chat text"]}, status="processed", received_at=at,
        conversation_key=f"webchat:{who.token}",
    )  # fmt: skip


async def _support(conn: Any, who: Person, at: datetime, agent_id: int) -> None:
    s, cid, conv = who.secrets, who.contact_id, who.conversation_id
    await _insert(
        conn, kb_interactions, contact_id=cid, conversation_id=conv, question=s["kb question"],
        language="en", decision="answer", article_id="shipping", score=0.9,
        candidates=[["shipping", 0.9]], created_at=at,
    )  # fmt: skip
    handoff = await _insert(
        conn, handoffs, conversation_id=conv, contact_id=cid, team="support", language="en",
        reason="customer_asked", status="with_agent", priority=0, requested_at=at,
        declined_by=[], agent_id=agent_id, desk_title=s["desk title"], summary=s["summary"],
    )  # fmt: skip
    for kind, text, data in (
        ("customer_message", s["event text"], {"team": "support"}),
        ("handoff_requested", s["summary"], {"reason": "asked", "tags": [s["tag"]]}),
        ("low_score", "Low score 2/5", {"alert": "low_score", "score": 2,
                                        "comment": s["survey comment"]}),
    ):  # fmt: skip
        await _insert(
            conn, conversation_events, conversation_id=conv, handoff_id=handoff, kind=kind,
            at=at, text=text, data=data,
        )  # fmt: skip
    await _insert(
        conn, held_replies, handoff_id=handoff, conversation_id=conv, agent_id=agent_id,
        text=s["held reply"], status="approved", created_at=at, final_text=s["held final"],
    )  # fmt: skip
    await _insert(
        conn, survey_responses, survey_id="csat", kind="csat", contact_id=cid,
        conversation_id=conv, handoff_id=handoff, status="sent", score=2,
        comment=s["survey comment"], low_score=True, awaiting_comment=True,
        follow_up_pending=False, created_at=at, sent_at=at, expires_at=at + timedelta(days=1),
    )  # fmt: skip


async def _marketing(conn: Any, who: Person, at: datetime) -> None:
    s, cid = who.secrets, who.contact_id
    await _insert(
        conn, api_events, key=f"order-{who.marker}", type="order_paid", contact_id=cid,
        data={"item": s["event data"]}, occurred_at=at, received_at=at, status="pending",
    )  # fmt: skip
    await _insert(
        conn, webhook_deliveries, event_key=f"funnel.exited:{cid}", endpoint="https://shop.test/h",
        event_type="funnel.exited", payload={"data": {"contact_id": cid}}, status="pending",
        attempts=0, next_attempt_at=at, created_at=at, updated_at=at,
    )  # fmt: skip
    who.enrollment_id = await _insert(
        conn, enrollments, funnel_id="welcome", contact_id=cid, status="running",
        step_id="hello", due_at=at + timedelta(hours=1), event={"cart": s["enrollment event"]},
        variables={"first": s["enrollment variable"]}, entered_at=at, updated_at=at, version=1,
    )  # fmt: skip
    for kind, detail in (("entered", None), ("replied", s["funnel reply"])):
        await _insert(
            conn, funnel_log, enrollment_id=who.enrollment_id, funnel_id="welcome",
            contact_id=cid, step_id="hello", kind=kind, detail=detail, at=at,
        )  # fmt: skip
    await _insert(
        conn, coupon_codes, pool="welcome", code=f"CODE-{cid}", contact_id=cid, assigned_at=at
    )


async def _settings(conn: Any, who: Person) -> None:
    entries = {
        f"webchat:visitor:{who.token}": "2026-01-01T00:00:00+00:00",
        f"link:code{who.marker}": who.token,
        f"shoplink:shop{who.marker}": f'{{"contact_id": {who.contact_id}, "expires_at": "x"}}',
        f"agent_desk:topic:{who.contact_id}": "-1001:77",
    }
    for key, value in entries.items():
        await conn.execute(settings.insert().values(key=key, value=value))


async def store_agent(storage: Storage, at: datetime) -> int:
    async with storage.engine.begin() as conn:
        return await _insert(
            conn, agents, key="alice", name="Alice Agent", role="agent", languages=[],
            teams=[], max_chats=5, trainee=False, active=True, created_at=at, updated_at=at,
        )  # fmt: skip


async def dump_database(url: str) -> str:
    """The text dump of the whole database: `sqlite3 FILE .dump` or `pg_dump`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        command = ["sqlite3", str(parsed.database), ".dump"]
    else:
        command = ["pg_dump", "--no-owner", "-h", parsed.host or "127.0.0.1"]
        command += ["-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
        command.append(str(parsed.database))
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()
