"""What the console shows, gathered from a unit of work: rows for the lists, the timeline.

No aiohttp here: plain data for the templates, and the rules of who may see what.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.handoff import (
    Agent,
    ConversationEvent,
    EventKind,
    Handoff,
    HandoffStatus,
    HeldReply,
)
from bot.domain.model import Direction, Message, Sender
from bot.domain.ports import UnitOfWork
from bot.domain.surveys import SurveyResponse

SLA_SOON = timedelta(minutes=2)  # highlighted as "due soon" this long before the deadline
HISTORY_LIMIT = 200
_TAG = re.compile(r"<[^>]*>")
# Events already shown as messages (the messages table holds the text on every channel).
_SHOWN_AS_MESSAGES = frozenset({EventKind.CUSTOMER_MESSAGE, EventKind.AGENT_MESSAGE})
_RANK = {"in": 0, "event": 1, "out": 2, "note": 3}


@dataclass(frozen=True, slots=True)
class ChatRow:
    handoff: Handoff
    contact_name: str
    agent_name: str | None
    waiting: timedelta
    sla: str  # "" (none or met), "soon" or "breached"

    @property
    def id(self) -> int:
        return self.handoff.id


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    kind: str  # "in", "out", "note" or "event"
    who: str
    text: str
    channel: str = ""


@dataclass(frozen=True, slots=True)
class HeldRow:
    held: HeldReply
    agent_name: str
    contact_name: str

    @property
    def plain_text(self) -> str:
        """The held reply as the trainee typed it (it is stored as Telegram HTML)."""
        return plain_text(self.held.text)


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """A low survey score no supervisor acted on yet."""

    response: SurveyResponse
    contact_name: str
    agent_name: str | None

    @property
    def scale(self) -> str:
        """The score with its scale, as people read it: "2 / 5", "4 / 10"."""
        top = self.response.kind.scores[-1]
        return f"{self.response.score} / {top}"


def visible_teams(agent: Agent, default_team: str) -> set[str]:
    return set(agent.teams) if agent.teams else {default_team}


def can_view(agent: Agent, handoff: Handoff, default_team: str) -> bool:
    """Supervisors see everything; an agent sees their chats and their teams' waiting ones."""
    if agent.is_supervisor or handoff.agent_id == agent.id:
        return True
    waiting = handoff.status in (HandoffStatus.QUEUED, HandoffStatus.OFFERED)
    return waiting and handoff.team in visible_teams(agent, default_team)


def sla_state(handoff: Handoff, now: datetime) -> str:
    if handoff.sla_breached_at is not None:
        return "breached"
    if handoff.first_response_at is not None or handoff.sla_due_at is None:
        return ""
    if handoff.sla_due_at <= now:
        return "breached"
    return "soon" if handoff.sla_due_at - now <= SLA_SOON else ""


def plain_text(text: str) -> str:
    """Outbound texts are Telegram HTML: shown as the words the customer read (escaped later)."""
    return html.unescape(_TAG.sub("", text))


async def names_of_agents(uow: UnitOfWork) -> dict[int, str]:
    return {agent.id: agent.name for agent in await uow.agents.list_all()}


async def names_of_contacts(uow: UnitOfWork, contact_ids: set[int]) -> dict[int, str]:
    """Display names by contact id; `#id` for a contact that is gone (merged or forgotten)."""
    contacts = await uow.contacts.get_many(contact_ids)
    return {
        cid: contacts[cid].display_name if cid in contacts else f"#{cid}" for cid in contact_ids
    }


async def chat_rows(
    uow: UnitOfWork, handoffs: list[Handoff], now: datetime, agents: dict[int, str]
) -> list[ChatRow]:
    names = await names_of_contacts(uow, {h.contact_id for h in handoffs})
    rows = []
    for handoff in handoffs:
        rows.append(
            ChatRow(
                handoff=handoff,
                contact_name=names[handoff.contact_id],
                agent_name=agents.get(handoff.agent_id) if handoff.agent_id else None,
                waiting=now - handoff.requested_at,
                sla=sla_state(handoff, now),
            )
        )
    return rows


async def queue_for(uow: UnitOfWork, agent: Agent, default_team: str) -> list[Handoff]:
    """Waiting chats, highest priority first: an agent's teams only, and not the ones offered
    to them (those are in their own list, with a Take button)."""
    waiting = [
        h
        for h in await uow.handoffs.open()
        if h.status in (HandoffStatus.QUEUED, HandoffStatus.OFFERED)
    ]
    if agent.is_supervisor:
        return waiting
    teams = visible_teams(agent, default_team)
    return [h for h in waiting if h.team in teams and h.agent_id != agent.id]


async def chats_for(uow: UnitOfWork, agent: Agent) -> list[Handoff]:
    """The agent's offered and active chats; supervisors: every chat an agent holds."""
    if agent.is_supervisor:
        return [h for h in await uow.handoffs.open() if h.status is HandoffStatus.ACTIVE]
    return await uow.handoffs.open_for_agent(agent.id)


async def held_rows(uow: UnitOfWork, agents: dict[int, str]) -> list[HeldRow]:
    pending = await uow.held_replies.pending()
    handoffs = [await uow.handoffs.get(held.handoff_id) for held in pending]
    contact_ids = {h.contact_id for h in handoffs if h is not None}
    contacts = await uow.contacts.get_many(contact_ids)
    rows = []
    for held, handoff in zip(pending, handoffs, strict=True):
        contact = contacts.get(handoff.contact_id) if handoff else None
        rows.append(
            HeldRow(
                held=held,
                agent_name=agents.get(held.agent_id, f"#{held.agent_id}"),
                contact_name=contact.display_name if contact else "?",
            )
        )
    return rows


async def timeline(
    uow: UnitOfWork, handoff: Handoff, agents: dict[int, str], contact_name: str
) -> list[TimelineItem]:
    """The contact's messages on every channel, with this conversation's notes and events."""
    messages = await uow.messages.history(handoff.contact_id, limit=HISTORY_LIMIT)
    events = await uow.events.for_conversation(handoff.conversation_id)
    # Messages do not say which agent wrote them; their events, stamped alike, do.
    authors = {
        e.at: agents.get(e.agent_id, "Agent")
        for e in events
        if e.kind is EventKind.AGENT_MESSAGE and e.agent_id is not None
    }
    items = [_message_item(m, contact_name, authors) for m in messages]
    items += [_event_item(e, agents) for e in events if e.kind not in _SHOWN_AS_MESSAGES]
    # At equal times (one transaction stamps them alike): what the customer wrote, then what
    # it caused, then what was sent, then the notes written about it.
    return sorted(items, key=lambda item: (item.at, _RANK[item.kind]))


def _message_item(
    message: Message, contact_name: str, authors: dict[datetime, str]
) -> TimelineItem:
    if message.direction is Direction.INBOUND:
        return TimelineItem(
            message.created_at, "in", contact_name, message.text, message.channel.value
        )
    if message.sender is Sender.AGENT:
        who = authors.get(message.created_at, "Agent")
    else:
        who = {Sender.BOT: "Bot", Sender.SYSTEM: "System"}.get(message.sender, message.sender)
    return TimelineItem(
        message.created_at, "out", who, plain_text(message.text), message.channel.value
    )


_EVENT_WORDS = {
    EventKind.LOW_SCORE: "low survey score",
    EventKind.HANDOFF_REQUESTED: "handed to a person",
    EventKind.OFFERED: "offered",
    EventKind.OFFER_EXPIRED: "offer expired",
    EventKind.TAKEN: "took the chat",
    EventKind.TRANSFERRED: "transferred the chat",
    EventKind.REPLY_HELD: "reply waits for approval",
    EventKind.REPLY_APPROVED: "reply approved",
    EventKind.REPLY_REJECTED: "reply rejected",
    EventKind.SLA_BREACHED: "first-response target missed",
    EventKind.CLOSED: "closed the chat",
    EventKind.RETURNED_TO_BOT: "gave the chat back to the bot",
}


def _event_item(event: ConversationEvent, agents: dict[int, str]) -> TimelineItem:
    who = agents.get(event.agent_id, "Agent") if event.agent_id else "System"
    if event.kind is EventKind.NOTE:
        return TimelineItem(event.at, "note", who, event.text or "")
    words = _EVENT_WORDS.get(event.kind, event.kind.value.replace("_", " "))
    detail = f": {event.text}" if event.text else ""
    return TimelineItem(event.at, "event", who, f"{words}{detail}")


async def follow_up_rows(
    uow: UnitOfWork, responses: list[SurveyResponse], agents: dict[int, str]
) -> list[FollowUpRow]:
    names = await names_of_contacts(uow, {r.contact_id for r in responses})
    return [
        FollowUpRow(
            response=response,
            contact_name=names[response.contact_id],
            agent_name=agents.get(response.agent_id) if response.agent_id else None,
        )
        for response in responses
    ]
