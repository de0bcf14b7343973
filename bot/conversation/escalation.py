"""When a conversation goes to a person: the triggers, checked on each customer turn.

The customer asking ("operator", /human, the button), strong negative wording, a tag such as
`vip`, the bot failing to answer several times in a row, a "No" on "Did this help?". Each is
switched on or off in `handoff.triggers`. The hand-off itself is requested after the turn's
replies are queued, so the customer reads "Sorry…" before "A person will reply…".
"""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.domain.handoff import HandoffReason
from bot.domain.inbound import InboundKind
from bot.domain.model import Button
from bot.domain.ports import UnitOfWork
from bot.handoff.service import HandoffService
from bot.handoff.triggers import Triggers
from bot.rendering import Renderer

PERSON_BUTTON = "hf:person"
PERSON_COMMANDS = frozenset({"human", "operator", "agent", "person"})


class Escalation:
    def __init__(self, handoff: HandoffService, triggers: Triggers, renderer: Renderer) -> None:
        self._handoff = handoff
        self._triggers = triggers
        self._renderer = renderer

    @property
    def failed_answers_limit(self) -> int:
        return self._triggers.failed_answers

    def asked_for_person(self, turn: Turn) -> bool:
        """The customer asked for a person: a command, the button or a phrase."""
        event = turn.event
        if event.kind is InboundKind.COMMAND:
            return (event.command or "") in PERSON_COMMANDS
        if event.kind is InboundKind.BUTTON:
            return event.callback_data == PERSON_BUTTON
        return event.kind is InboundKind.TEXT and self._triggers.wants_person(event.text)

    def check_text(self, turn: Turn) -> HandoffReason | None:
        """A reason found in the customer's words or tags, before the bot tries to answer."""
        if self.asked_for_person(turn):
            return HandoffReason.CUSTOMER_ASKED
        text = turn.event.text if turn.event.kind is InboundKind.TEXT else ""
        if text and self._triggers.complaint and self._triggers.is_complaint(text):
            return HandoffReason.COMPLAINT
        tags = turn.contact.attributes.get("tags", [])
        if isinstance(tags, list) and self._triggers.tag_trigger(map(str, tags)) is not None:
            return HandoffReason.TAG
        return None

    def person_button(self, turn: Turn) -> list[list[Button]]:
        label = self._renderer.render("handoff_button", turn.language, turn.context())
        return [[Button(label, callback_data=PERSON_BUTTON)]]

    def allows(self, reason: HandoffReason) -> bool:
        """Whether a reason found by the knowledge base is switched on."""
        if reason is HandoffReason.NOT_HELPFUL:
            return self._triggers.not_helpful
        if reason is HandoffReason.BOT_FAILED:
            return self._triggers.failed_answers > 0
        return True

    async def request_for(self, uow: UnitOfWork, turn: Turn) -> None:
        """Request the hand-off the turn asked for, now that its replies are queued."""
        if turn.handoff_reason is None:
            return
        summary = turn.handoff_summary or _summary(turn)
        handoff = await self._handoff.request(
            uow,
            turn.conversation.id,
            turn.handoff_reason,
            summary=summary,
            language=turn.language,
            notice_key=turn.event.update_key,
        )
        if handoff is not None:
            turn.conversation.status = (
                await uow.conversations.get(turn.conversation.id) or turn.conversation
            ).status

    async def forward(self, uow: UnitOfWork, turn: Turn, text: str) -> bool:
        """Pass the customer's message to the agents; False when no person is involved."""
        found = await self._handoff.on_customer_message(uow, turn.conversation.id, text, turn.at)
        return found is not None

    async def customer_left(self, uow: UnitOfWork, conversation_id: int) -> None:
        await self._handoff.customer_left(uow, conversation_id)


def _summary(turn: Turn) -> str:
    event = turn.event
    if event.kind is InboundKind.TEXT:
        return event.text[:300]
    if event.kind is InboundKind.COMMAND:
        return f"/{event.command}"
    return "pressed “Talk to a person”"
