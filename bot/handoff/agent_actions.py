"""What agents do to a chat: take, reply, note, canned replies, transfer, close, back to bot.

Both front ends (the Telegram desk and the web console) call these, so a rule holds the same
wherever an agent clicks. Every state change is a compare-and-set on the hand-off's status:
of two agents pressing Take at once, one wins and the other is told who did.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.handoff import (
    Agent,
    CloseReason,
    EventKind,
    Handoff,
    HandoffStatus,
)
from bot.domain.model import ConversationStatus, OutboundKind
from bot.domain.ports import UnitOfWork
from bot.handoff.actions import ActionResult, Outcome
from bot.handoff.notices import Notices, plain_to_html
from bot.handoff.policy import HandoffPolicy
from bot.handoff.queue import WAITING, Assigner
from bot.rendering import TEMPLATE_SUFFIX, Renderer, RenderError

log = logging.getLogger(__name__)

CANNED_PREFIX = "canned_"
MAX_REPLY_LENGTH = 20_000  # the outbox splits long texts; this only stops a runaway paste


class AgentActionService:
    def __init__(
        self, policy: HandoffPolicy, renderer: Renderer, outbox: Outbox, clock: Clock
    ) -> None:
        self._policy = policy
        self._renderer = renderer
        self._outbox = outbox
        self._clock = clock
        self._notices = Notices(renderer, outbox)
        self._assigner = Assigner(policy)
        # Set by the app when webhooks are configured: `publish(uow, type, payload, at, key=)`.
        self.publish: Any = None
        self.surveys: Any = None  # SurveyService, set by the app: a survey after a close

    # -- take ---------------------------------------------------------------------------------

    async def take(self, uow: UnitOfWork, handoff_id: int, agent: Agent) -> ActionResult:
        handoff = await uow.handoffs.get(handoff_id)
        if handoff is None:
            return _not_found()
        if handoff.status is HandoffStatus.ACTIVE:
            if handoff.agent_id == agent.id:
                return ActionResult(Outcome.OK, "This chat is already yours.", handoff)
            return await self._taken_by_other(uow, handoff)
        if handoff.status is HandoffStatus.CLOSED:
            return ActionResult(Outcome.CLOSED, "This chat is already closed.", handoff)
        now = self._clock.now()
        taken = dataclasses.replace(
            handoff,
            status=HandoffStatus.ACTIVE,
            agent_id=agent.id,
            taken_at=now,
            offer_expires_at=None,
            last_activity_at=now,
        )
        if not await uow.handoffs.transition(handoff.id, WAITING, taken):
            current = await uow.handoffs.get(handoff.id)
            if current is None or current.status is HandoffStatus.CLOSED:
                return ActionResult(Outcome.CLOSED, "This chat is already closed.", current)
            return await self._taken_by_other(uow, current)
        await uow.conversations.set_status(
            handoff.conversation_id, ConversationStatus.WITH_AGENT, now
        )
        await uow.events.add(
            handoff.conversation_id, EventKind.TAKEN, now, handoff.id, agent.id,
            data={"agent": agent.key},
        )  # fmt: skip
        await self._notices.tell(
            uow, taken, "handoff_agent_joined", f"handoff:{handoff.id}:joined:{agent.id}", now,
            agent=agent.name,
        )  # fmt: skip
        return ActionResult(Outcome.OK, "You took this chat.", taken)

    async def _taken_by_other(self, uow: UnitOfWork, handoff: Handoff) -> ActionResult:
        holder = await uow.agents.get(handoff.agent_id) if handoff.agent_id else None
        who = holder.name if holder else "Another agent"
        return ActionResult(Outcome.ALREADY_TAKEN, f"{who} already took this chat.", handoff)

    # -- messages -----------------------------------------------------------------------------

    async def reply(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, text: str, via: str = "console"
    ) -> ActionResult:
        text = text.strip()[:MAX_REPLY_LENGTH]
        if not text:
            return ActionResult(Outcome.EMPTY, "There is nothing to send.")
        return await self._send(uow, handoff_id, agent, plain_to_html(text), text, via)

    async def canned(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, name: str, via: str = "console"
    ) -> ActionResult:
        name = name.strip().removeprefix(CANNED_PREFIX)
        if name not in self.canned_names():
            known = ", ".join(self.canned_names()) or "none"
            return ActionResult(
                Outcome.UNKNOWN_TEMPLATE, f"No canned response {name!r}. Available: {known}."
            )
        handoff = await uow.handoffs.get(handoff_id)
        contact = await uow.contacts.get(handoff.contact_id) if handoff else None
        if handoff is None or contact is None:
            return _not_found()
        context = {"name": contact.display_name, "contact": contact, "agent": agent.name}
        try:
            html = self._renderer.render(CANNED_PREFIX + name, handoff.language, context)
        except RenderError as exc:
            log.error("canned response %s failed: %s", name, exc)
            return ActionResult(Outcome.UNKNOWN_TEMPLATE, f"The template {name!r} is broken.")
        return await self._send(uow, handoff_id, agent, html, html, via)

    def canned_names(self) -> list[str]:
        folder = self._renderer.templates_dir
        names = {
            path.name.removesuffix(TEMPLATE_SUFFIX).removeprefix(CANNED_PREFIX)
            for path in folder.glob(f"*/{CANNED_PREFIX}*{TEMPLATE_SUFFIX}")
        }
        return sorted(names)

    async def note(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, text: str, via: str = "console"
    ) -> ActionResult:
        text = text.strip()[:MAX_REPLY_LENGTH]
        if not text:
            return ActionResult(Outcome.EMPTY, "The note is empty.")
        handoff = await uow.handoffs.get(handoff_id)
        if handoff is None:
            return _not_found()
        await uow.events.add(
            handoff.conversation_id, EventKind.NOTE, self._clock.now(), handoff.id, agent.id,
            text=text, data={"via": via, "agent": agent.key},
        )  # fmt: skip
        return ActionResult(Outcome.OK, "Note saved (the customer does not see it).", handoff)

    async def _send(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, html: str, shown: str, via: str
    ) -> ActionResult:
        """Send `html` to the customer as `agent`; `shown` is what agents see in the feed."""
        handoff = await uow.handoffs.get(handoff_id)
        if handoff is None:
            return _not_found()
        if handoff.status is HandoffStatus.CLOSED:
            return ActionResult(Outcome.CLOSED, "This chat is closed: the bot has it now.")
        if handoff.status in WAITING:
            taken = await self.take(uow, handoff_id, agent)
            if not taken.ok:
                return taken
            handoff = taken.handoff or handoff
        elif handoff.agent_id != agent.id and not agent.is_supervisor:
            return await self._not_yours(uow, handoff)
        now = self._clock.now()
        if agent.trainee:
            held = await uow.held_replies.add(
                handoff.id, handoff.conversation_id, agent.id, html, now
            )
            await uow.events.add(
                handoff.conversation_id, EventKind.REPLY_HELD, now, handoff.id, agent.id,
                text=shown, data={"via": via, "held_id": held.id, "agent": agent.key},
            )  # fmt: skip
            return ActionResult(
                Outcome.HELD, "Your reply waits for a supervisor's approval.", handoff, held
            )
        await self.deliver(uow, handoff, agent, html, shown, {"via": via}, now)
        return ActionResult(Outcome.OK, "Sent.", handoff)

    async def deliver(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        author: Agent,
        html: str,
        shown: str,
        data: dict[str, object],
        now: datetime,
    ) -> None:
        """Record the agent's message and queue it to the customer."""
        event = await uow.events.add(
            handoff.conversation_id, EventKind.AGENT_MESSAGE, now, handoff.id, author.id,
            text=shown, data={**data, "agent": author.key},
        )  # fmt: skip
        contact = await uow.contacts.get(handoff.contact_id)
        if contact is not None:
            key = f"agent:{event.id}"
            await self._notices.send_html(uow, handoff, contact, html, key, now, OutboundKind.AGENT)
        handoff.first_response_at = handoff.first_response_at or now
        handoff.last_activity_at = now
        await uow.handoffs.update(handoff)

    async def _not_yours(self, uow: UnitOfWork, handoff: Handoff) -> ActionResult:
        holder = await uow.agents.get(handoff.agent_id) if handoff.agent_id else None
        who = holder.name if holder else "another agent"
        return ActionResult(Outcome.NOT_ALLOWED, f"This chat is {who}'s.", handoff)

    # -- transfer, close, back to bot -----------------------------------------------------------

    async def transfer(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, target: str
    ) -> ActionResult:
        handoff = await uow.handoffs.get(handoff_id)
        refused = await self._refuse_change(uow, handoff, agent)
        if refused is not None or handoff is None:
            return refused or _not_found()
        target = target.strip()
        to_agent = await uow.agents.get_by_key(target)
        if to_agent is None and target not in self._policy.team_names:
            teams = ", ".join(self._policy.team_names)
            return ActionResult(
                Outcome.UNKNOWN_TARGET, f"No agent or team {target!r}. Teams: {teams}.", handoff
            )
        if to_agent is not None and not to_agent.active:
            return ActionResult(Outcome.UNKNOWN_TARGET, f"{to_agent.name} is away.", handoff)
        now = self._clock.now()
        queued = dataclasses.replace(
            handoff,
            status=HandoffStatus.QUEUED,
            team=handoff.team if to_agent is not None else target,
            agent_id=None,
            offered_at=None,
            offer_expires_at=None,
            declined_by=[],
        )
        expected = (handoff.status,)
        if not await uow.handoffs.transition(handoff.id, expected, queued):
            return ActionResult(Outcome.ALREADY_TAKEN, "The chat changed meanwhile: try again.")
        await uow.conversations.set_status(
            handoff.conversation_id, ConversationStatus.WAITING_FOR_AGENT, now
        )
        await uow.events.add(
            handoff.conversation_id, EventKind.TRANSFERRED, now, handoff.id, agent.id,
            data={"from": agent.key, "to": target, "team": queued.team},
        )  # fmt: skip
        offered = await self._assigner.offer(uow, queued, now, to=to_agent)
        where = to_agent.name if to_agent is not None else f"team {target}"
        return ActionResult(Outcome.OK, f"Transferred to {where}.", offered)

    async def close(self, uow: UnitOfWork, handoff_id: int, agent: Agent) -> ActionResult:
        return await self.finish(uow, handoff_id, agent, CloseReason.CLOSED)

    async def back_to_bot(self, uow: UnitOfWork, handoff_id: int, agent: Agent) -> ActionResult:
        return await self.finish(uow, handoff_id, agent, CloseReason.BACK_TO_BOT)

    async def finish(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent | None, reason: CloseReason
    ) -> ActionResult:
        """End the hand-off; `agent` None when the system ends it (idle, customer left)."""
        handoff = await uow.handoffs.get(handoff_id)
        if agent is not None:
            refused = await self._refuse_change(uow, handoff, agent)
            if refused is not None:
                return refused
        if handoff is None or handoff.status is HandoffStatus.CLOSED:
            return ActionResult(Outcome.CLOSED, "This chat is already closed.", handoff)
        now = self._clock.now()
        closed = dataclasses.replace(
            handoff,
            status=HandoffStatus.CLOSED,
            closed_at=now,
            closed_by=agent.id if agent else None,
            close_reason=reason,
            offer_expires_at=None,
        )
        if not await uow.handoffs.transition(handoff.id, (handoff.status,), closed):
            return ActionResult(Outcome.ALREADY_TAKEN, "The chat changed meanwhile: try again.")
        ends_conversation = reason in (CloseReason.CLOSED, CloseReason.CUSTOMER_LEFT)
        status = ConversationStatus.CLOSED if ends_conversation else ConversationStatus.BOT
        await uow.conversations.set_status(handoff.conversation_id, status, now)
        kind = EventKind.CLOSED if ends_conversation else EventKind.RETURNED_TO_BOT
        await uow.events.add(
            handoff.conversation_id, kind, now, handoff.id, agent.id if agent else None,
            data={"reason": reason.value},
        )  # fmt: skip
        if self.publish is not None:
            payload = {
                "conversation_id": handoff.conversation_id,
                "contact_id": handoff.contact_id,
                "handoff_id": handoff.id,
                "reason": reason.value,
                "agent": agent.key if agent else None,
            }
            key = f"conversation.closed:{handoff.id}"
            await self.publish(uow, "conversation.closed", payload, now, key=key)
        if reason is not CloseReason.CUSTOMER_LEFT:
            template = "handoff_closed" if ends_conversation else "handoff_returned"
            await self._notices.tell(uow, closed, template, f"handoff:{handoff.id}:end", now)
        if self.surveys is not None:
            await self.surveys.schedule_after_close(uow, closed, now)
        message = "Closed." if ends_conversation else "The bot has the chat again."
        return ActionResult(Outcome.OK, message, closed)

    async def _refuse_change(
        self, uow: UnitOfWork, handoff: Handoff | None, agent: Agent
    ) -> ActionResult | None:
        """Only the agent holding a chat (or a supervisor) may move or end it."""
        if handoff is None:
            return _not_found()
        if handoff.status is HandoffStatus.CLOSED:
            return ActionResult(Outcome.CLOSED, "This chat is already closed.", handoff)
        held_by_other = handoff.status is HandoffStatus.ACTIVE and handoff.agent_id != agent.id
        if held_by_other and not agent.is_supervisor:
            return await self._not_yours(uow, handoff)
        return None


def _not_found() -> ActionResult:
    return ActionResult(Outcome.NOT_FOUND, "There is no such chat.")
