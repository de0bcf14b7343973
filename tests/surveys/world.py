"""The hand-off world of `tests/handoff/scenario.py` with surveys wired in as `bot/app.py`
wires them: `finish()` schedules the survey, the conversation gives `sv:` buttons and follow-up
comments to the survey service before anything else answers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.conversation.escalation import Escalation
from bot.conversation.service import ConversationService
from bot.delivery.outbox import Outbox
from bot.domain.model import Channel
from bot.domain.surveys import SurveyResponse
from bot.handoff.service import HandoffService
from bot.rendering import Renderer
from bot.surveys.catalog import SurveyLibrary
from bot.surveys.service import SurveyRules, SurveyService
from tests.handoff.scenario import AGENTS, TEMPLATES, World

REPO = Path(__file__).resolve().parents[2]
SURVEYS = REPO / "surveys"
ALWAYS_OPEN = {"agents": AGENTS, "offer_timeout_seconds": 60, "idle_close_minutes": 30}
DELAY = timedelta(minutes=10)


@dataclass
class SurveyWorld(World):
    rules: SurveyRules = field(default_factory=lambda: SurveyRules(after_close_delay=DELAY))
    surveys: SurveyService = field(init=False)
    published: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        renderer = Renderer(TEMPLATES, "en")
        outbox = Outbox({Channel.TELEGRAM: 4096, Channel.WEBCHAT: 4000})
        library = SurveyLibrary(SURVEYS, renderer)
        library.refresh()
        self.surveys = SurveyService(
            self.rules, library.current, renderer, outbox, self.clock, handoff=None
        )
        handoff = HandoffService(self.policy, renderer, outbox, self.clock)
        handoff.surveys = self.surveys
        self.surveys._handoff = handoff  # the app passes it to the constructor
        self.surveys.publish = self._publish
        self.handoff = handoff
        self.conversation = ConversationService(
            renderer, outbox, self.clock,
            escalation=Escalation(self.handoff, self.policy.triggers, renderer),
            surveys=self.surveys,
        )  # fmt: skip

    async def _publish(
        self, uow: Any, kind: str, payload: dict[str, Any], at: Any, *, key: str
    ) -> None:
        self.published.append((kind, payload, key))

    async def closed_chat(self, user: int = 7, how: str = "close", **say: Any) -> Any:
        """A customer asks for a person, Alice takes the chat, answers and closes it."""
        agents = await self.sync_agents()
        await self.say("operator", user=user, **say)
        handoff = await self.handoff_of(user)
        await self.act("take", handoff.id, agents["alice"])
        await self.act("reply", handoff.id, agents["alice"], "Done, anything else?")
        assert (await self.act(how, handoff.id, agents["alice"])).ok
        await self.drain()  # the notices; the survey is not due yet
        return await self.handoff_of(user)

    async def responses(self, user: int = 7) -> list[SurveyResponse]:
        async with self.storage.uow() as uow:
            identity = await uow.identities.find(Channel.TELEGRAM, str(user))
            assert identity is not None
            return await uow.surveys.for_contact(identity.contact_id)

    async def expire(self) -> int:
        async with self.storage.uow() as uow:
            expired = await self.surveys.expire(uow, self.clock.now())
            await uow.commit()
        return expired
