"""Mirrors conversation events into the agents' group, in order, from a stored cursor.

The cursor advances only after an event has been mirrored, so a crash repeats at most the
event in hand. A failing event (Telegram refusing it, a bug) is retried on the next passes and
skipped, with an ERROR in the log, after `max_attempts`: one bad event must not stop the desk.
429s are not failures: the poster waits them out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.channels.agent_desk import format as fmt
from bot.channels.agent_desk import keyboards, links
from bot.channels.agent_desk.poster import DeskPoster
from bot.channels.agent_desk.topics import Place, Subject, TopicKeeper, load_subject
from bot.delivery.splitting import escape
from bot.domain.handoff import ConversationEvent, EventKind, HandoffStatus
from bot.domain.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

Apply = Callable[[ConversationEvent, Subject, Place], Awaitable[None]]
GAP_GRACE_SECONDS = 2.0


class DeskProjector:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        poster: DeskPoster,
        topics: TopicKeeper,
        *,
        max_attempts: int = 5,
        gap_grace: float = GAP_GRACE_SECONDS,
    ) -> None:
        self._uow = uow_factory
        self._poster = poster
        self.topics = topics
        self._max_attempts = max_attempts
        self._gap_grace = gap_grace
        self._failures: dict[int, int] = {}
        self._gap_seen: tuple[int, float] | None = None
        self._apply: dict[EventKind, Apply] = {
            EventKind.CUSTOMER_MESSAGE: self._customer_message,
            EventKind.AGENT_MESSAGE: self._agent_message,
            EventKind.NOTE: self._note,
            EventKind.REPLY_HELD: self._held,
            EventKind.SLA_BREACHED: self._sla_breached,
            EventKind.LOW_SCORE: self._low_score,
        }

    async def start_cursor(self) -> None:
        """The first time the desk runs it follows only new events; open hand-offs get topics."""
        async with self._uow() as uow:
            if await uow.settings.get(links.CURSOR_KEY) is not None:
                return
            await uow.settings.put(links.CURSOR_KEY, str(await uow.events.last_id()))
            open_ids = [handoff.id for handoff in await uow.handoffs.open()]
            await uow.commit()
        for handoff_id in open_ids:
            async with self._uow() as uow:
                subject = await load_subject(uow, handoff_id)
            if subject is not None and self.topics.place(subject) is None:
                subject, place, _ = await self.topics.ensure(subject)
                await self.topics.introduce(subject, place)

    async def project(self, limit: int = 50) -> bool:
        """Mirror the next events; True when there may be more right away."""
        async with self._uow() as uow:
            cursor = await links.read_int(uow, links.CURSOR_KEY) or 0
            events = await uow.events.after(cursor, limit)
        for event in events:
            if self._must_wait_for_gap(cursor, event.id):
                await asyncio.sleep(0.05)  # an earlier transaction may still commit its event
                return True
            await self._project_counted(event)
            cursor = event.id
            async with self._uow() as uow:
                await uow.settings.put(links.CURSOR_KEY, str(cursor))
                await uow.commit()
        return len(events) >= limit

    def _must_wait_for_gap(self, cursor: int, event_id: int) -> bool:
        """On PostgreSQL ids are taken at insert and committed in any order: a hole before
        `event_id` may be an event still being committed. Wait a little for it, not forever
        (rolled-back inserts leave holes that never fill)."""
        if cursor == 0 or event_id == cursor + 1:
            self._gap_seen = None
            return False
        now = time.monotonic()
        if self._gap_seen is None or self._gap_seen[0] != event_id:
            self._gap_seen = (event_id, now)
        return now - self._gap_seen[1] < self._gap_grace

    async def _project_counted(self, event: ConversationEvent) -> None:
        try:
            await self.project_one(event)
        except Exception:
            failures = self._failures.get(event.id, 0) + 1
            if failures < self._max_attempts:
                self._failures[event.id] = failures
                raise  # the loop pauses and the next pass tries this event again
            log.exception(
                "agent desk: skipping event %s (%s) after %d failures",
                event.id,
                event.kind.value,
                failures,
            )
        self._failures.pop(event.id, None)

    async def project_one(self, event: ConversationEvent) -> None:
        if event.handoff_id is None:
            return
        async with self._uow() as uow:
            subject = await load_subject(uow, event.handoff_id)
        if subject is None:
            return
        if subject.handoff.status is HandoffStatus.CLOSED and self.topics.place(subject) is None:
            return  # over before the desk saw it: nothing for agents to do
        subject, place, created = await self.topics.ensure(subject)
        if created or event.kind is EventKind.HANDOFF_REQUESTED:
            await self.topics.introduce(subject, place)
        apply = self._apply.get(event.kind)
        if apply is not None:
            await apply(event, subject, place)
        elif event.kind is not EventKind.HANDOFF_REQUESTED:
            async with self._uow() as uow:
                line = await _status_text(uow, event)
            await self.topics.post(
                subject.handoff.id, place, fmt.status_line(line, header=place.header)
            )
        if event.kind in (EventKind.REPLY_APPROVED, EventKind.REPLY_REJECTED):
            await self._drop_approval_buttons(event)
        ends = event.kind in (EventKind.CLOSED, EventKind.RETURNED_TO_BOT)
        await self.topics.refresh_title(subject, place, close=ends)

    async def _customer_message(
        self, event: ConversationEvent, subject: Subject, place: Place
    ) -> None:
        text = fmt.customer_message(subject.customer, event.text or "", header=place.header)
        await self.topics.post(subject.handoff.id, place, text)

    async def _agent_message(
        self, event: ConversationEvent, subject: Subject, place: Place
    ) -> None:
        via = str(event.data.get("via", ""))
        if via == "desk":
            return  # the agent wrote it in this very topic
        author = await self._agent_name(event.agent_id)
        text = fmt.agent_message(author, via, event.text or "", header=place.header)
        await self.topics.post(subject.handoff.id, place, text)

    async def _note(self, event: ConversationEvent, subject: Subject, place: Place) -> None:
        if event.data.get("via") == "desk":
            return
        author = await self._agent_name(event.agent_id)
        await self.topics.post(
            subject.handoff.id, place, fmt.note(author, event.text or "", header=place.header)
        )

    async def _held(self, event: ConversationEvent, subject: Subject, place: Place) -> None:
        held_id = event.data.get("held_id")
        if not isinstance(held_id, int):
            return
        author = await self._agent_name(event.agent_id)
        text = fmt.held_reply(held_id, author, event.text or "", header=place.header)
        sent = await self.topics.post(subject.handoff.id, place, text, keyboards.approval(held_id))
        async with self._uow() as uow:
            await links.remember_held(uow, held_id, sent.chat_id, sent.message_id)
            await uow.commit()

    async def _drop_approval_buttons(self, event: ConversationEvent) -> None:
        held_id = event.data.get("held_id")
        if not isinstance(held_id, int):
            return
        async with self._uow() as uow:
            post = await links.held_post(uow, held_id)
        if post is not None:
            await self._poster.edit_keyboard(post[0], post[1], None)

    async def _sla_breached(self, event: ConversationEvent, subject: Subject, place: Place) -> None:
        async with self._uow() as uow:
            agents = await uow.agents.list_all(active_only=True)
        supervisors = [agent for agent in agents if agent.is_supervisor]
        alert = fmt.sla_alert(subject.customer, subject.handoff, supervisors)
        await self.topics.post(
            subject.handoff.id, place, fmt.status_line(alert, header=place.header)
        )
        if place.thread_id is not None:  # in a plain group the line above is already there
            await self.topics.post(subject.handoff.id, place, alert, general=True)

    async def _low_score(self, event: ConversationEvent, subject: Subject, place: Place) -> None:
        """A low survey score: supervisors are pinged in the topic and in the general chat."""
        async with self._uow() as uow:
            agents = await uow.agents.list_all(active_only=True)
        pings = " ".join(fmt.mention(agent) for agent in agents if agent.is_supervisor)
        what = escape(event.text or "A customer gave a low survey score.")
        response_id = event.data.get("response_id")
        keyboard = keyboards.reopen(response_id) if isinstance(response_id, int) else None
        how = "Press Reopen" if keyboard else "Reopen it from the console"
        alert = f"⚠️ {pings} {what} {how} to follow up.".replace("  ", " ")
        # The button goes under one post only: a second Reopen would just say "already".
        general = place.thread_id is not None
        await self.topics.post(subject.handoff.id, place, alert, None if general else keyboard)
        if general:
            await self.topics.post(subject.handoff.id, place, alert, keyboard, general=True)

    async def _agent_name(self, agent_id: int | None) -> str:
        if agent_id is None:
            return "Someone"
        async with self._uow() as uow:
            agent = await uow.agents.get(agent_id)
        return agent.name if agent is not None else f"Agent {agent_id}"


async def _status_text(uow: UnitOfWork, event: ConversationEvent) -> str:
    """The short line for a change of hands (HTML; names escaped, the offered agent pinged)."""
    agent = await uow.agents.get(event.agent_id) if event.agent_id is not None else None
    who = f"<b>{escape(agent.name)}</b>" if agent is not None else "The system"
    kind = event.kind
    if kind is EventKind.OFFERED:
        # A mention, so the agent it is offered to gets a notification.
        who = fmt.mention(agent) if agent is not None else "an agent"
        return f"🔵 Offered to {who}. Press Take to answer."
    if kind is EventKind.OFFER_EXPIRED:
        return f"⌛ {who} did not take it in time."
    if kind is EventKind.TAKEN:
        return f"🟢 {who} took the chat."
    if kind is EventKind.TRANSFERRED:
        target = escape(str(event.data.get("to", "")))
        return f"↪️ {who} transferred the chat to <b>{target}</b>."
    if kind is EventKind.CLOSED:
        return f"⚪ {who} closed the chat ({escape(str(event.data.get('reason', 'closed')))})."
    if kind is EventKind.RETURNED_TO_BOT:
        return f"🤖 {who} gave the chat back to the bot."
    if kind is EventKind.REPLY_APPROVED:
        return f"👍 {who} approved the held reply."
    if kind is EventKind.REPLY_REJECTED:
        return f"👎 {who} rejected the held reply."
    return f"{escape(kind.value.replace('_', ' '))}."
