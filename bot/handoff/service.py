"""The hand-off service: a conversation goes to a person and comes back to the bot.

`request` puts a conversation in the queue (or bumps the one already there), tells the customer
what happens next and offers the chat to an agent when the team is working. `tick` is run on
an interval: it moves expired offers on, offers queued chats to agents who became free, marks
SLA breaches and gives idle chats back to the bot. The agents' actions (take, reply, ...) are
in `AgentActionService`, which this extends.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.domain.handoff import (
    Agent,
    CloseReason,
    EventKind,
    Handoff,
    HandoffReason,
    HandoffStatus,
    HeldReplyStatus,
)
from bot.domain.model import Contact, ConversationStatus
from bot.domain.ports import UnitOfWork
from bot.handoff.actions import ActionResult, Outcome
from bot.handoff.agent_actions import AgentActionService
from bot.handoff.notices import opening_context, plain_to_html
from bot.handoff.routing import priority_for

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickReport:
    expired: int = 0
    offered: int = 0
    breached: int = 0
    idle_closed: int = 0


class HandoffService(AgentActionService):
    @property
    def enabled(self) -> bool:
        return self._policy.enabled

    async def sync_agents(self, uow: UnitOfWork) -> list[Agent]:
        """Store the agents of `config.yaml` (matched by key; passwords are kept)."""
        return [await uow.agents.upsert(agent) for agent in self._policy.agents]

    # -- into the queue -------------------------------------------------------------------------

    async def request(
        self,
        uow: UnitOfWork,
        conversation_id: int,
        reason: HandoffReason,
        *,
        summary: str | None = None,
        language: str | None = None,
        notice_key: str | None = None,
    ) -> Handoff | None:
        """Hand the conversation to a person; None when hand-off is off or nothing to hand.

        `notice_key` makes the customer notice idempotent per cause (e.g. the update's key):
        the same update handled twice tells the customer once.
        """
        conversation = await uow.conversations.get(conversation_id)
        if not self._policy.enabled or conversation is None:
            return None
        contact = await uow.contacts.get(conversation.contact_id)
        if contact is None:
            return None
        now = self._clock.now()
        existing = await uow.handoffs.open_for_conversation(conversation_id)
        if existing is not None:
            return await self._remind(uow, existing, contact, reason, now, notice_key)
        handoff = await self._enqueue(uow, conversation_id, contact, reason, summary, language, now)
        key = f"handoff:{handoff.id}:queued"
        if self._assigner.is_open(handoff.team, now):
            await self._notices.tell(uow, handoff, "handoff_queued", key, now)
            return await self._assigner.offer(uow, handoff, now)
        hours = self._policy.hours_for(handoff.team)
        opens_at = hours.next_open(now)
        if opens_at is None:  # a team that never works: still honest, without a time
            await self._notices.tell(uow, handoff, "handoff_queued", key, now)
        else:
            context = opening_context(opens_at, hours.timezone, now)
            await self._notices.tell(uow, handoff, "handoff_after_hours", key, now, **context)
        return handoff

    async def _enqueue(
        self,
        uow: UnitOfWork,
        conversation_id: int,
        contact: Contact,
        reason: HandoffReason,
        summary: str | None,
        language: str | None,
        now: datetime,
    ) -> Handoff:
        tags = _tags_of(contact)
        team = self._policy.routing.team_for(tags)
        handoff = await uow.handoffs.add(
            Handoff(
                id=0,
                conversation_id=conversation_id,
                contact_id=contact.id,
                team=team,
                language=language or contact.language or "en",
                reason=reason,
                status=HandoffStatus.QUEUED,
                priority=self._priority(reason, tags),
                requested_at=now,
                sla_due_at=self._sla_due(team, tags, now),
                last_activity_at=now,
                summary=summary[:500] if summary else None,
            )
        )
        await uow.conversations.set_status(
            conversation_id, ConversationStatus.WAITING_FOR_AGENT, now
        )
        await uow.events.add(
            conversation_id, EventKind.HANDOFF_REQUESTED, now, handoff.id,
            text=handoff.summary,
            data={"reason": reason.value, "team": team, "priority": handoff.priority,
                  "tags": sorted(tags)},
        )  # fmt: skip
        log.info("conversation %s handed off (%s) to team %s", conversation_id, reason, team)
        if self.publish is not None:
            payload = {
                "conversation_id": conversation_id,
                "contact_id": contact.id,
                "handoff_id": handoff.id,
                "reason": reason.value,
                "team": team,
                "priority": handoff.priority,
            }
            key = f"conversation.handed_off:{handoff.id}"
            await self.publish(uow, "conversation.handed_off", payload, now, key=key)
        return handoff

    def _priority(self, reason: HandoffReason, tags: set[str]) -> int:
        complaint = reason is HandoffReason.COMPLAINT
        return priority_for(complaint, tags, self._policy.priorities)

    def _sla_due(self, team: str, tags: set[str], now: datetime) -> datetime | None:
        # Counted in the team's working time: a question on Friday evening is due on Monday.
        return self._policy.first_response_due(team, tags, now)

    async def _remind(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        contact: Contact,
        reason: HandoffReason,
        now: datetime,
        notice_key: str | None,
    ) -> Handoff:
        """Already with (or waiting for) a person: a complaint may raise the priority."""
        priority = self._priority(reason, _tags_of(contact))
        if priority > handoff.priority:
            handoff.priority = priority
            await uow.handoffs.update(handoff)
        if handoff.status is not HandoffStatus.ACTIVE:
            key = f"handoff:{handoff.id}:waiting:{notice_key or now.isoformat()}"
            await self._notices.tell(uow, handoff, "handoff_still_waiting", key, now)
        return handoff

    async def on_customer_message(
        self, uow: UnitOfWork, conversation_id: int, text: str, at: datetime
    ) -> Handoff | None:
        """Pass a customer's message on to the agents; None when no person is involved."""
        handoff = await uow.handoffs.open_for_conversation(conversation_id)
        if handoff is None:
            return None
        await uow.events.add(
            conversation_id, EventKind.CUSTOMER_MESSAGE, at, handoff.id, text=text[:4000]
        )
        handoff.last_activity_at = at
        await uow.handoffs.update(handoff)
        return handoff

    async def customer_left(self, uow: UnitOfWork, conversation_id: int) -> None:
        """The customer blocked the bot: nobody can answer them, so the hand-off ends."""
        handoff = await uow.handoffs.open_for_conversation(conversation_id)
        if handoff is not None:
            await self.finish(uow, handoff.id, None, CloseReason.CUSTOMER_LEFT)

    # -- trainee replies ----------------------------------------------------------------------

    async def approve(
        self, uow: UnitOfWork, held_id: int, supervisor: Agent, edited_text: str | None = None
    ) -> ActionResult:
        return await self._decide(uow, held_id, supervisor, edited_text, approve=True)

    async def reject(self, uow: UnitOfWork, held_id: int, supervisor: Agent) -> ActionResult:
        return await self._decide(uow, held_id, supervisor, None, approve=False)

    async def _decide(
        self,
        uow: UnitOfWork,
        held_id: int,
        supervisor: Agent,
        edited_text: str | None,
        approve: bool,
    ) -> ActionResult:
        if not supervisor.is_supervisor:
            return ActionResult(Outcome.NOT_ALLOWED, "Only a supervisor can approve replies.")
        held = await uow.held_replies.get(held_id)
        handoff = await uow.handoffs.get(held.handoff_id) if held else None
        author = await uow.agents.get(held.agent_id) if held else None
        if held is None or handoff is None or author is None:
            return ActionResult(Outcome.NOT_FOUND, "There is no such reply.")
        if approve and handoff.status is HandoffStatus.CLOSED:
            return ActionResult(Outcome.CLOSED, "The chat is closed: the reply cannot be sent.")
        now = self._clock.now()
        edited = edited_text.strip() if edited_text and edited_text.strip() else None
        html = plain_to_html(edited) if edited else held.text
        status = HeldReplyStatus.APPROVED if approve else HeldReplyStatus.REJECTED
        final = html if approve else None
        if not await uow.held_replies.decide(held_id, status, supervisor.id, now, final):
            return ActionResult(Outcome.ALREADY_TAKEN, "Someone already decided on this reply.")
        kind = EventKind.REPLY_APPROVED if approve else EventKind.REPLY_REJECTED
        await uow.events.add(
            handoff.conversation_id, kind, now, handoff.id, supervisor.id,
            text=edited, data={"held_id": held_id, "author": author.key},
        )  # fmt: skip
        if not approve:
            return ActionResult(Outcome.OK, f"Rejected {author.name}'s reply.", handoff, held)
        data: dict[str, object] = {"via": "approval", "approved_by": supervisor.key}
        await self.deliver(uow, handoff, author, html, edited or held.text, data, now)
        return ActionResult(Outcome.OK, f"Sent {author.name}'s reply.", handoff, held)

    # -- time ---------------------------------------------------------------------------------

    async def tick(self, uow: UnitOfWork) -> TickReport:
        """Work that falls due with time; run it every few seconds (once per cluster)."""
        now = self._clock.now()
        expired = await self._assigner.expire_offers(uow, now)
        offered = await self._assigner.assign_waiting(uow, now)
        breached = await self._mark_breaches(uow, now)
        idle = await self._close_idle(uow, now)
        return TickReport(expired, offered, breached, idle)

    async def _mark_breaches(self, uow: UnitOfWork, now: datetime) -> int:
        breaches = await uow.handoffs.sla_breaches_due(now)
        for handoff in breaches:
            await uow.handoffs.update(dataclasses.replace(handoff, sla_breached_at=now))
            late = int((now - (handoff.sla_due_at or now)).total_seconds() // 60)
            await uow.events.add(
                handoff.conversation_id, EventKind.SLA_BREACHED, now, handoff.id,
                data={"team": handoff.team, "due_at": _iso(handoff.sla_due_at),
                      "minutes_late": late},
            )  # fmt: skip
            log.warning("hand-off %s missed its first-response target", handoff.id)
        return len(breaches)

    async def _close_idle(self, uow: UnitOfWork, now: datetime) -> int:
        if self._policy.idle_close is None:
            return 0
        idle = await uow.handoffs.idle_since(now - self._policy.idle_close)
        closed = 0
        for handoff in idle:
            result = await self.finish(uow, handoff.id, None, CloseReason.IDLE)
            closed += result.ok
        return closed


def _tags_of(contact: Contact) -> set[str]:
    tags = contact.attributes.get("tags", [])
    return {str(tag) for tag in tags} if isinstance(tags, list) else set()


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
