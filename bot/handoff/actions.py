"""What agents can do to a hand-off, as the agent desk and the console call it.

`HandoffService` implements `AgentActions`. Every action takes the unit of work it runs in (the
caller commits) and the acting agent, and returns an `ActionResult` instead of raising for
the everyday refusals ("already taken by Bob", "not your chat"), so both front ends can show
the same sentence to the agent.

`via` ("desk" or "console") is stored in the event's data as `via`, so the desk does not echo
into a topic what an agent just wrote there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from bot.domain.handoff import Agent, Handoff, HeldReply
from bot.domain.ports import UnitOfWork


class Outcome(enum.StrEnum):
    OK = "ok"
    HELD = "held"  # a trainee's reply now waits for a supervisor
    ALREADY_TAKEN = "already_taken"  # someone else took it first
    NOT_FOUND = "not_found"
    CLOSED = "closed"  # the hand-off is over
    NOT_ALLOWED = "not_allowed"  # e.g. replying in another agent's chat, approving as an agent
    UNKNOWN_TARGET = "unknown_target"  # transfer to an agent or team that does not exist
    UNKNOWN_TEMPLATE = "unknown_template"  # /canned NAME with no such template
    EMPTY = "empty"  # nothing to send


@dataclass(frozen=True, slots=True)
class ActionResult:
    outcome: Outcome
    message: str  # one sentence for the agent, e.g. "Bob already took this chat."
    handoff: Handoff | None = None
    held: HeldReply | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.OK, Outcome.HELD)


class AgentActions(Protocol):
    async def take(self, uow: UnitOfWork, handoff_id: int, agent: Agent) -> ActionResult:
        """Take a queued or offered chat; of two agents pressing at once exactly one wins."""
        ...

    async def reply(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, text: str, via: str = "console"
    ) -> ActionResult:
        """Send `text` to the customer through the outbox (held when the agent is a trainee).

        Replying to a chat nobody holds takes it first; another agent's chat is refused
        (supervisors may reply anywhere).
        """
        ...

    async def note(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, text: str, via: str = "console"
    ) -> ActionResult:
        """An internal note: stored and shown to agents, never sent to the customer."""
        ...

    async def canned(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, name: str, via: str = "console"
    ) -> ActionResult:
        """Render `templates/<lang>/canned_<name>.j2` with the contact's data and reply with it."""
        ...

    def canned_names(self) -> list[str]:
        """The canned responses available (template names without the `canned_` prefix)."""
        ...

    async def transfer(
        self, uow: UnitOfWork, handoff_id: int, agent: Agent, target: str
    ) -> ActionResult:
        """Hand the chat to another agent (by key) or team (by name); it is offered anew."""
        ...

    async def close(self, uow: UnitOfWork, handoff_id: int, agent: Agent) -> ActionResult:
        """Close the conversation; the customer's next message starts a new one with the bot."""
        ...

    async def back_to_bot(self, uow: UnitOfWork, handoff_id: int, agent: Agent) -> ActionResult:
        """Give the chat back to the bot; the conversation stays open."""
        ...

    async def approve(
        self, uow: UnitOfWork, held_id: int, supervisor: Agent, edited_text: str | None = None
    ) -> ActionResult:
        """Send a trainee's held reply (as edited, when `edited_text` is given)."""
        ...

    async def reject(self, uow: UnitOfWork, held_id: int, supervisor: Agent) -> ActionResult:
        """Drop a trainee's held reply; the trainee is told."""
        ...
