"""The dashboard as the composition root wires it (bot/app.py): the real Nudge app serves it
with the reports in the funnels' time zone and each funnel's steps in the file's order."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import aiohttp

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.domain.handoff import Agent, AgentRole
from bot.funnel.catalog import load_funnels
from bot.process import Nudge
from bot.web.console.passwords import hash_password
from tests.e2e.conftest import REPO, Harness, fake_telegram, harness  # noqa: F401  (fixtures)
from tests.web.console.harness import PASSWORD, csrf_in

STEP = re.compile(r'<g class="step(?: worst)?" data-step="(\w+)">')


async def test_the_app_serves_the_dashboard_with_steps_in_file_order(harness: Harness) -> None:  # noqa: F811
    app = await harness.start(
        NUDGE_FUNNELS__FOLDER=str(REPO / "funnels"), NUDGE_FUNNELS__TIMEZONE="Europe/Chisinau"
    )
    (welcome,) = [f for f in load_funnels(REPO / "funnels", None) if f.id == "welcome"]
    file_order = [step.id for step in welcome.steps]
    assert len(file_order) >= 2
    await _seed(app, harness.clock.now() - timedelta(days=1), file_order)
    html = await _dashboard(app, "/dashboard?since=7d")
    assert "(Europe/Chisinau)" in html
    assert STEP.findall(html) == file_order


async def _seed(app: Nudge, entered: datetime, steps: list[str]) -> None:
    """A supervisor, and Kim in the welcome funnel with every step logged, last step first
    (only the funnel file can put them back in order)."""
    async with app.storage.uow() as uow:
        boss = await uow.agents.upsert(Agent(0, "boss", "Boss", AgentRole.SUPERVISOR))
        await uow.agents.set_password_hash(boss.id, hash_password(PASSWORD))
        contact = await uow.contacts.create("Kim", "en")
        enrollment = await uow.enrollments.add(
            Enrollment(id=0, funnel_id="welcome", contact_id=contact.id,
                       status=EnrollmentStatus.RUNNING, step_id=steps[0], due_at=None,
                       entered_at=entered, updated_at=entered)
        )  # fmt: skip
        for minutes, step in enumerate(reversed(steps)):
            at = entered + timedelta(minutes=minutes)
            entry = FunnelLogEntry(
                enrollment.id, "welcome", contact.id, step, FunnelLogKind.SENT, at
            )
            await uow.funnel_log.add(entry)
        await uow.commit()


async def _dashboard(app: Nudge, path: str) -> str:
    console = f"http://127.0.0.1:{app.settings.web.port}/console"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(console + "/login") as page:
            token = csrf_in(await page.text())
        form = {"key": "boss", "password": PASSWORD, "csrf": token, "next": "/console/"}
        async with http.post(console + "/login", data=form, allow_redirects=False) as answer:
            assert answer.status == 303
        async with http.get(console + path) as page:
            html = await page.text()
            assert page.status == 200, html
    return html
