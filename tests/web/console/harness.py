"""The console on a real aiohttp server, real SQLite storage and the real HandoffService.

`start_site` starts it; `Site` adds agents (with real scrypt passwords) and customers who ask
for a person. The fixtures are in conftest.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.analytics import ReportService
from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.handoff import Agent, AgentRole, Handoff, HandoffReason
from bot.domain.model import Channel, Conversation, Direction, Sender
from bot.handoff.policy import HandoffPolicy
from bot.handoff.service import HandoffService
from bot.rendering import Renderer
from bot.storage import Storage
from bot.storage.tables import outbox
from bot.surveys.catalog import SurveyLibrary
from bot.surveys.service import SurveyRules, SurveyService
from bot.web.console import setup_console
from bot.web.console.passwords import hash_password
from tests.web.test_webchat_routes import CHROMIUM

try:
    import playwright.async_api
except ImportError:  # the browser tests are skipped
    playwright = None  # type: ignore[assignment]

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse battery"
SECRET_KEY = "console-test-secret-key"
_visitors = count(1)

needs_browser = pytest.mark.skipif(
    playwright is None or not CHROMIUM.exists(),
    reason="needs the playwright package and Debian's Chromium at /usr/bin/chromium",
)


@dataclass
class Site:
    storage: Storage
    clock: FakeClock
    service: HandoffService
    surveys: SurveyService
    base_url: str = ""
    wakes: int = 0
    # The dashboard's reports: their time zone and each funnel's steps in file order.
    report_zone: str = "UTC"
    funnel_steps: dict[str, list[str]] = field(default_factory=dict)
    runner: web.AppRunner | None = field(default=None, repr=False)

    @property
    def console(self) -> str:
        return self.base_url + "/console"

    async def agent(
        self,
        key: str,
        *,
        role: AgentRole = AgentRole.AGENT,
        password: str | None = PASSWORD,
        trainee: bool = False,
        teams: tuple[str, ...] = (),
        name: str | None = None,
        max_chats: int = 5,
    ) -> Agent:
        async with self.storage.uow() as uow:
            profile = Agent(0, key, name or key.title(), role, teams=list(teams))
            profile.trainee, profile.max_chats = trainee, max_chats
            agent = await uow.agents.upsert(profile)
            if password is not None:
                await uow.agents.set_password_hash(agent.id, hash_password(password))
            await uow.commit()
        return agent

    async def customer_asks(
        self,
        name: str,
        text: str = "I want to talk to a person",
        channel: Channel = Channel.WEBCHAT,
    ) -> Handoff:
        """A customer who wrote `text` and was handed to a person (queued or offered)."""
        visitor = f"visitor-{next(_visitors)}"
        async with self.storage.uow() as uow:
            now = self.clock.now()
            contact = await uow.contacts.create(name, "en")
            await uow.identities.add(contact.id, channel, visitor, visitor, None)
            conversation = await uow.conversations.create(contact.id, channel, now)
            await uow.messages.add(
                conversation.id, contact.id, Direction.INBOUND, Sender.CUSTOMER, channel, text, now
            )
            handoff = await self.service.request(
                uow, conversation.id, HandoffReason.CUSTOMER_ASKED, summary="asked for a person"
            )
            await uow.commit()
        assert handoff is not None
        return handoff

    async def customer_writes(self, handoff: Handoff, text: str) -> None:
        async with self.storage.uow() as uow:
            now = self.clock.now()
            await uow.messages.add(
                handoff.conversation_id, handoff.contact_id, Direction.INBOUND, Sender.CUSTOMER,
                Channel.WEBCHAT, text, now,
            )  # fmt: skip
            await self.service.on_customer_message(uow, handoff.conversation_id, text, now)
            await uow.commit()

    async def outbox_texts(self) -> list[str]:
        async with self.storage.engine.connect() as conn:
            rows = await conn.execute(select(outbox.c.text).order_by(outbox.c.id))
            return [row.text for row in rows]

    async def handoff(self, handoff_id: int) -> Handoff:
        async with self.storage.uow() as uow:
            found = await uow.handoffs.get(handoff_id)
        assert found is not None
        return found

    async def conversation(self, conversation_id: int) -> Conversation:
        async with self.storage.uow() as uow:
            found = await uow.conversations.get(conversation_id)
        assert found is not None
        return found


async def start_site(storage: Storage, clock: FakeClock, *, with_reports: bool = True) -> Site:
    policy = HandoffPolicy()
    renderer = Renderer(REPO / "templates", "en")
    outbox_rows = Outbox({})
    service = HandoffService(policy, renderer, outbox_rows, clock)
    library = SurveyLibrary(REPO / "surveys", renderer)
    library.refresh()
    surveys = SurveyService(
        SurveyRules(), library.current, renderer, outbox_rows, clock, handoff=service
    )
    service.surveys = surveys
    site = Site(storage, clock, service, surveys)

    def woken() -> None:
        site.wakes += 1

    def reports(uows: Any) -> ReportService:
        return ReportService(uows, clock, site.report_zone, lambda: site.funnel_steps)

    app = web.Application()
    setup_console(
        app, uow_factory=storage.uow_factory, actions=service, clock=clock,
        secret_key=SECRET_KEY, default_team=policy.default_team, teams=policy.team_names,
        on_outbox=woken, poll_seconds=0.25, follow_ups=surveys,
        reports=reports if with_reports else None,
    )  # fmt: skip
    site.runner = web.AppRunner(app)
    await site.runner.setup()
    await web.TCPSite(site.runner, "127.0.0.1", 0).start()
    host, port = site.runner.addresses[0][:2]
    site.base_url = f"http://{host}:{port}"
    return site


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


async def log_in(
    http: aiohttp.ClientSession, site: Site, key: str, password: str = PASSWORD
) -> aiohttp.ClientResponse:
    async with http.get(site.console + "/login") as response:
        token = csrf_in(await response.text())
    form = {"key": key, "password": password, "csrf": token, "next": "/console/"}
    async with http.post(site.console + "/login", data=form, allow_redirects=False) as response:
        await response.read()
        return response


async def page_token(http: aiohttp.ClientSession, site: Site, path: str = "/") -> str:
    async with http.get(site.console + path) as response:
        assert response.status == 200, await response.text()
        return csrf_in(await response.text())


def json_headers(token: str) -> dict[str, Any]:
    return {"X-CSRF-Token": token, "X-Requested-With": "fetch"}
