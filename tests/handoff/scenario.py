"""A small world for hand-off tests: the conversation service, the hand-off service, agents.

Customers write through `ConversationService.handle` (as the inbox does) and agents act through
`HandoffService`, each step in its own committed unit of work, on the real storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.conversation.escalation import Escalation
from bot.conversation.knowledge_replies import KnowledgeResponder
from bot.conversation.service import ConversationService
from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.handoff import Agent, ConversationEvent, Handoff
from bot.domain.inbound import InboundEvent, InboundKind, Sender
from bot.domain.model import Channel, Conversation, OutboundMessage
from bot.handoff.actions import ActionResult
from bot.handoff.policy import HandoffPolicy
from bot.handoff.service import HandoffService
from bot.knowledge.answering import KnowledgeBase
from bot.knowledge.decision import Thresholds
from bot.knowledge.loader import load_folder
from bot.rendering import Renderer
from bot.storage.uow import Storage

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"

AGENTS: list[dict[str, Any]] = [
    {"key": "alice", "name": "Alice", "telegram_user_id": 1001, "languages": ["en", "ro"]},
    {"key": "bob", "name": "Bob", "telegram_user_id": 1002, "languages": ["en", "ru"]},
    {"key": "tina", "name": "Tina", "telegram_user_id": 1003, "trainee": True},
    {"key": "sam", "name": "Sam", "telegram_user_id": 1009, "role": "supervisor"},
]


def policy_from(handoff: dict[str, Any]) -> HandoffPolicy:
    settings = Settings.model_validate({"handoff": handoff})
    return HandoffPolicy.from_settings(settings.handoff)


_keys = iter(range(1, 1_000_000))


@dataclass
class World:
    storage: Storage
    clock: FakeClock
    policy: HandoffPolicy
    with_kb: bool = False
    handoff: HandoffService = field(init=False)
    conversation: ConversationService = field(init=False)

    def __post_init__(self) -> None:
        renderer = Renderer(TEMPLATES, "en")
        outbox = Outbox({Channel.TELEGRAM: 4096, Channel.WEBCHAT: 4000})
        self.handoff = HandoffService(self.policy, renderer, outbox, self.clock)
        responder = None
        if self.with_kb:
            kb = KnowledgeBase()
            kb.load(load_folder(REPO / "knowledge_base").documents)
            responder = KnowledgeResponder(kb, Thresholds(0.28, 0.23, 0.0), renderer)
        self.conversation = ConversationService(
            renderer,
            outbox,
            self.clock,
            knowledge=responder,
            escalation=Escalation(self.handoff, self.policy.triggers, renderer),
        )

    async def sync_agents(self) -> dict[str, Agent]:
        async with self.storage.uow() as uow:
            agents = await self.handoff.sync_agents(uow)
            await uow.commit()
        return {agent.key: agent for agent in agents}

    async def say(
        self, text: str, user: int = 7, name: str = "Ann", lang: str = "en", **kw: Any
    ) -> list[OutboundMessage]:
        """The customer writes (a command when `text` starts with /); the new outbox rows."""
        sender = Sender(Channel.TELEGRAM, str(user), str(user), name, None, lang)
        key = f"telegram:{next(_keys)}"
        if text.startswith("/"):
            head, _, args = text.partition(" ")
            ev = InboundEvent(key, sender, InboundKind.COMMAND, text, head[1:], args)
        elif "callback_data" in kw:
            ev = InboundEvent(
                key, sender, InboundKind.BUTTON, text, callback_data=kw["callback_data"]
            )
        else:
            ev = InboundEvent(key, sender, InboundKind.TEXT, text)
        async with self.storage.uow() as uow:
            await self.conversation.handle(uow, ev)
            await uow.commit()
        return await self.drain()

    async def drain(self) -> list[OutboundMessage]:
        """Claim everything queued so far, as the dispatcher would."""
        async with self.storage.uow() as uow:
            rows = await uow.outbox.claim_due(self.clock.now(), 1000)
            await uow.commit()
        return rows

    async def act(self, action: str, handoff_id: int, agent: Agent, *args: Any) -> ActionResult:
        async with self.storage.uow() as uow:
            result: ActionResult = await getattr(self.handoff, action)(
                uow, handoff_id, agent, *args
            )
            await uow.commit()
        return result

    async def tick(self) -> Any:
        async with self.storage.uow() as uow:
            report = await self.handoff.tick(uow)
            await uow.commit()
        return report

    async def handoff_of(self, user: int = 7) -> Handoff:
        conversation = await self.conversation_of(user)
        async with self.storage.uow() as uow:
            found = await uow.handoffs.latest_for_conversation(conversation.id)
        assert found is not None, "no hand-off for this customer"
        return found

    async def conversation_of(self, user: int = 7) -> Conversation:
        async with self.storage.uow() as uow:
            identity = await uow.identities.find(Channel.TELEGRAM, str(user))
            assert identity is not None
            conversations = await uow.conversations.open_for_contact(identity.contact_id)
            if conversations is None:
                handoffs = await uow.handoffs.recent_closed(5)
                mine = [h for h in handoffs if h.contact_id == identity.contact_id]
                found = await uow.conversations.get(mine[0].conversation_id) if mine else None
                assert found is not None
                return found
            return conversations

    async def events(self, user: int = 7) -> list[ConversationEvent]:
        conversation = await self.conversation_of(user)
        async with self.storage.uow() as uow:
            return await uow.events.for_conversation(conversation.id)
