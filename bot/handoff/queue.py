"""The queue: offering waiting chats to agents, and moving on when an offer is not taken.

A chat is offered to one agent at a time: the least busy available agent of its team who
speaks its language (`routing.choose_agent`). An offer that is not taken within
`offer_timeout` goes to the next agent; agents who let it expire are skipped for that chat
until everybody has had a turn. Outside the team's working hours nothing is offered: the chat
waits, and the customer has been told when a person will answer.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from bot.domain.handoff import Agent, EventKind, Handoff, HandoffStatus
from bot.domain.ports import UnitOfWork
from bot.handoff.policy import HandoffPolicy

log = logging.getLogger(__name__)

WAITING = (HandoffStatus.QUEUED, HandoffStatus.OFFERED)


class Assigner:
    def __init__(self, policy: HandoffPolicy) -> None:
        self._policy = policy

    def is_open(self, team: str, at: datetime) -> bool:
        return self._policy.hours_for(team).is_open(at)

    async def offer(
        self, uow: UnitOfWork, handoff: Handoff, now: datetime, to: Agent | None = None
    ) -> Handoff:
        """Offer a QUEUED chat to `to`, or to the best free agent; unchanged when none fits."""
        if to is None:
            if not self.is_open(handoff.team, now):
                return handoff
            to = await self._best_agent(uow, handoff)
            if to is None:
                return handoff
        expected = (handoff.status,)
        expires_at = now + self._policy.offer_timeout
        offered = dataclasses.replace(
            handoff,
            status=HandoffStatus.OFFERED,
            agent_id=to.id,
            offered_at=now,
            offer_expires_at=expires_at,
        )
        if not await uow.handoffs.transition(handoff.id, expected, offered):
            return await uow.handoffs.get(handoff.id) or handoff
        await uow.agents.mark_assigned(to.id, now)
        await uow.events.add(
            handoff.conversation_id,
            EventKind.OFFERED,
            now,
            handoff_id=handoff.id,
            agent_id=to.id,
            data={"agent": to.key, "expires_at": expires_at.isoformat()},
        )
        log.info("hand-off %s offered to %s", handoff.id, to.key)
        return offered

    async def _best_agent(self, uow: UnitOfWork, handoff: Handoff) -> Agent | None:
        agents = await uow.agents.list_all(active_only=True)
        loads = await uow.agents.open_chat_counts()
        routing = self._policy.routing
        found = routing.choose_agent(
            agents, loads, handoff.team, handoff.language, exclude=handoff.declined_by
        )
        if found is None and handoff.declined_by:
            # Everybody free has let it expire once: start a new round rather than leave the
            # customer waiting for nobody.
            found = routing.choose_agent(agents, loads, handoff.team, handoff.language)
        return found

    async def assign_waiting(self, uow: UnitOfWork, now: datetime, limit: int = 100) -> int:
        """Offer queued chats, most urgent first, while agents have room; the number offered."""
        offered = 0
        for handoff in await uow.handoffs.queued(limit):
            result = await self.offer(uow, handoff, now)
            if result.status is HandoffStatus.OFFERED:
                offered += 1
        return offered

    async def expire_offers(self, uow: UnitOfWork, now: datetime, limit: int = 100) -> int:
        """Offers not taken in time go back to the queue and on to the next agent."""
        expired = 0
        for handoff in await uow.handoffs.offers_expired(now, limit):
            previous = handoff.agent_id
            declined = list(handoff.declined_by)
            if previous is not None and previous not in declined:
                declined.append(previous)
            queued = dataclasses.replace(
                handoff,
                status=HandoffStatus.QUEUED,
                agent_id=None,
                offered_at=None,
                offer_expires_at=None,
                declined_by=declined,
            )
            if not await uow.handoffs.transition(handoff.id, (HandoffStatus.OFFERED,), queued):
                continue  # taken at the last moment: nothing expired
            await uow.events.add(
                handoff.conversation_id,
                EventKind.OFFER_EXPIRED,
                now,
                handoff_id=handoff.id,
                agent_id=previous,
            )
            expired += 1
            await self.offer(uow, queued, now)
        return expired
