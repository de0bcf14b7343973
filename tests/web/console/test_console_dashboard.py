"""The supervisors' dashboard over real HTTP, on the reports' hand-checked world
(tests/analytics/seed.py: the local week 2026-11-02 .. 08 in Europe/Chisinau), on SQLite and
PostgreSQL. The expected numbers are the ones tests/analytics works out by hand."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.domain.clock import FakeClock
from bot.domain.handoff import AgentRole
from bot.domain.model import Channel, KbDecisionKind
from bot.storage import Storage
from tests.analytics.seed import FIRST_DAY, LAST_DAY, ZONE, seed_world
from tests.web.console.harness import Site, log_in, start_site

WEEK = f"/dashboard?from={FIRST_DAY}&to={LAST_DAY}"
STEPS = {"welcome": ["hello", "offer", "reminder"], "cart": ["nudge"]}
EMPTY = "No data in this period."
TILE = re.compile(
    r'data-tile="(\w+)"><dt>[^<]+</dt><dd class="value">([^<]*)</dd>'
    r'<dd class="detail">([^<]*)</dd>'
)
BAR = re.compile(
    r'<g class="step( worst)?" data-step="(\w+)">.*?<rect class="bar" x="[\d.]+" y="[\d.]+" '
    r'width="([\d.]+)"',
    re.S,
)
MARKUP = "<b>refund</b> now?"


async def open_seeded_site(storage: Storage, clock: FakeClock) -> Site:
    """The seeded world behind a running console, with a supervisor (boss) and an agent (ann)."""
    await seed_world(storage, clock)
    async with storage.uow() as uow:  # a customer's question with markup, unanswered
        contact = await uow.contacts.create("Eve", "en")
        chat = await uow.conversations.create(contact.id, Channel.TELEGRAM, clock.now())
        when = datetime(2026, 11, 7, 9, tzinfo=UTC)
        await uow.kb.add(contact.id, chat.id, MARKUP, "en", KbDecisionKind.NO_ANSWER,
                         None, None, [], when)  # fmt: skip
        await uow.commit()
    site = await start_site(storage, clock)
    site.report_zone, site.funnel_steps = ZONE, STEPS
    await site.agent("boss", role=AgentRole.SUPERVISOR, name="Boss")
    await site.agent("ann", name="Ann")
    return site


@pytest.fixture
async def seeded(storage: Storage, clock: FakeClock) -> AsyncIterator[Site]:
    site = await open_seeded_site(storage, clock)
    try:
        yield site
    finally:
        assert site.runner is not None
        await site.runner.cleanup()


async def dashboard(http: aiohttp.ClientSession, site: Site, path: str = WEEK) -> tuple[int, str]:
    async with http.get(site.console + path, allow_redirects=False) as page:
        return page.status, await page.text()


def funnel_html(html: str, funnel: str) -> str:
    start = html.index(f'data-funnel="{funnel}"')
    return html[start : html.index("</article>", start)]


async def test_the_service_tiles_show_the_weeks_numbers(
    seeded: Site, http: aiohttp.ClientSession
) -> None:
    await log_in(http, seeded, "boss")
    status, html = await dashboard(http, seeded)
    assert status == 200
    assert "2026-11-02 .. 2026-11-08 (Europe/Chisinau)" in html
    tiles = {key: (value, detail) for key, value, detail in TILE.findall(html)}
    assert tiles == {
        "csat": ("75%", "3 of 4 scored 4–5"),  # S1 5, S2 4, S3 2, S4 5
        "nps": ("+25", "4 answers"),  # 10, 8, 3, 9
        "first_response": ("2m 30s", "median; p90 4m 24s · 4 chats"),  # 60 120 180 300 s
        "resolution": ("20m", "median; p90 28m · 3 resolved"),  # 600 1200 1800 s
        "handoff": ("42%", "5 of 12 conversations"),
        "self_service": ("50%", "2 of 4 bot answers"),
        "first_contact": ("50%", "1 of 2 closed chats"),
        "sla": ("2", "of 3 with a target (67%)"),  # H2, H4 of H1, H2, H4
    }


async def test_each_funnel_is_a_narrowing_chart_with_its_worst_step_and_variants(
    seeded: Site, http: aiohttp.ClientSession
) -> None:
    await log_in(http, seeded, "boss")
    _, html = await dashboard(http, seeded)
    welcome = funnel_html(html, "welcome")
    bars = [(step, float(width), bool(worst)) for worst, step, width in BAR.findall(welcome)]
    # hello 6, offer 4, reminder 1 of 6 entered; most dropped out at offer (E2, E6).
    assert [(step, worst) for step, _, worst in bars] == [
        ("hello", False), ("offer", True), ("reminder", False),
    ]  # fmt: skip
    widths = [width for _, width, _ in bars]
    assert widths[1] / widths[0] == pytest.approx(4 / 6, abs=1e-3)
    assert widths[2] / widths[0] == pytest.approx(1 / 6, abs=1e-3)
    assert '>4 · 67%<tspan class="worst-note"> · most drop-outs (2)</tspan>' in welcome
    assert ">1 · 17%</text>" in welcome
    assert '<dd class="goal">2 of 6 (33%)</dd>' in welcome
    assert "<dd>replied 2, expired 1</dd>" in welcome
    assert "<dd>median 13h</dd>" in welcome  # 2 h and 1 day: 46800 s
    assert "<tr><td>a</td><td>2</td><td>1 of 2 (50%)</td><td>2h</td></tr>" in welcome
    assert "<tr><td>b</td><td>4</td><td>1 of 4 (25%)</td><td>1d</td></tr>" in welcome
    assert "b against a: −25.0 points: <strong>not significant (p=0.54)</strong>" in welcome
    cart = funnel_html(html, "cart")
    assert [(step, bool(worst)) for worst, step, _ in BAR.findall(cart)] == [("nudge", True)]
    assert '<dd class="goal">0 of 2 (0%)</dd>' in cart and "A/B variants" not in cart
    assert html.index('data-funnel="cart"') < html.index('data-funnel="welcome"')  # by id


async def test_each_funnel_says_what_became_of_its_messages(
    seeded: Site, http: aiohttp.ClientSession
) -> None:
    await log_in(http, seeded, "boss")
    _, html = await dashboard(http, seeded)
    welcome = funnel_html(html, "welcome")
    # All steps (tests/analytics/test_funnel_report.py): queued 6 + 4 + 1 = 11; delivered
    # 2 + 1 + 0 = 3; failed 1 + 2 = 3 (chat not found: hello E3, offer E6; 403: offer E2);
    # suppressed 1 + 1 + 1 = 3 (opted out: hello E5, reminder E3; blocked: offer E3); pending
    # 1 (E4); unknown 1 (E6). 3 + 3 + 3 + 1 + 1 = 11.
    assert (
        '<p class="delivery">Messages: 11 queued: 3 delivered, 3 failed, 3 suppressed, 1 pending,'
        " 1 outcome unknown (failed: 400: Bad Request: chat not found 2, 403: Forbidden: bot was"
        " blocked by the user 1; suppressed: contact opted out of marketing messages 2, contact"
        " blocked the bot 1)</p>"
    ) in welcome
    assert (
        "<title>offer: 4 reached (67% of entered), 2 dropped out here; messages 4 queued:"
        " 1 delivered, 2 failed, 1 suppressed</title>"
    ) in welcome
    # The data table: queued, delivered, failed, suppressed, pending, unknown, then the rest.
    assert (
        "<tr><td>hello</td><td>6</td><td>100%</td><td>6</td><td>2</td><td>1</td><td>1</td>"
        '<td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td><td class="text reasons">'
        "failed: 400: Bad Request: chat not found 1; suppressed: contact opted out of marketing"
        " messages 1</td></tr>"
    ) in welcome
    assert '<th scope="col">Queued</th><th scope="col">Delivered</th>' in welcome
    assert ">Sent<" not in welcome
    cart = funnel_html(html, "cart")
    assert (
        '<p class="delivery">Messages: 2 queued: 0 delivered, 0 failed, 2 suppressed'
        " (suppressed: contact blocked the bot 1, contact opted out of marketing messages 1)</p>"
    ) in cart


async def test_trends_have_a_point_per_day_with_axes_and_a_table(
    seeded: Site, http: aiohttp.ClientSession
) -> None:
    await log_in(http, seeded, "boss")
    _, html = await dashboard(http, seeded)
    csat = html[html.index('data-chart="csat"') : html.index('data-chart="first_response"')]
    # 2nd: S1 5 and S4 5; 3rd: S2 4; 4th: S3 2. No answers on the other days: no column.
    assert csat.count('<rect class="column"') == 3
    for title in ("2026-11-02: 100% (2 answers)", "2026-11-03: 100% (1 answers)",
                  "2026-11-04: 0% (1 answers)"):  # fmt: skip
        assert f"<title>{title}</title>" in csat
    assert ">CSAT (% scored 4–5)</text>" in csat and ">Day</text>" in csat
    assert "<tr><td>Nov 5</td><td>–</td><td>0</td></tr>" in csat  # the table keeps gaps
    waits = html[html.index('data-chart="first_response"') :]
    waits = waits[: waits.index("</figure>")]
    # 2nd: H1 60 s and H4 300 s -> 180; 3rd: H2 180; 4th: H3 120.
    assert waits.count('<circle class="dot"') == 3
    assert waits.count('<polyline class="line"') == 1  # the 2nd to the 4th, unbroken
    assert "<title>2026-11-04: 2m (1 hand-offs)</title>" in waits
    assert ">Median first response</text>" in waits


async def test_top_articles_and_unanswered_questions(
    seeded: Site, http: aiohttp.ClientSession
) -> None:
    await log_in(http, seeded, "boss")
    _, html = await dashboard(http, seeded)
    assert "<tr><td>delivery</td><td>3</td><td>1</td><td>0</td></tr>" in html
    assert "<tr><td>returns</td><td>1</td><td>0</td><td>1</td></tr>" in html
    assert '<tr><td>Where is my parcel?</td><td>4</td><td class="text">parcel</td></tr>' in html
    assert '<tr><td>gift cards</td><td>3</td><td class="text">card, gift</td></tr>' in html
    assert "9 unanswered in all" in html  # the seeded eight and Eve's
    assert "&lt;b&gt;refund&lt;/b&gt; now?" in html and MARKUP not in html  # text, not markup


async def test_a_long_period_shows_weekly_trends(seeded: Site, http: aiohttp.ClientSession) -> None:
    await log_in(http, seeded, "boss")
    status, html = await dashboard(http, seeded, "/dashboard?since=90d")
    assert status == 200 and "CSAT per week" in html and ">Week (from Monday)</text>" in html
    assert '<button type="submit" name="since" value="90d" class="current"' in html
    # S5 (score 1) at 23:40 on Sunday 1 November locally: the week of 26 October; S1-S4 the
    # week of 2 November (S4 at 23:40 UTC on the 1st is already Monday there).
    assert "<tr><td>week of Oct 26</td><td>0%</td><td>1</td></tr>" in html
    assert "<tr><td>week of Nov 2</td><td>75%</td><td>4</td></tr>" in html


async def test_the_default_is_the_last_30_days(seeded: Site, http: aiohttp.ClientSession) -> None:
    await log_in(http, seeded, "boss")
    status, html = await dashboard(http, seeded, "/dashboard")
    # Now is 2026-11-20 12:00 UTC (14:00 in Chisinau): 30 days back is 21 October.
    assert status == 200 and "2026-10-21 .. 2026-11-20 (Europe/Chisinau)" in html
    assert '<button type="submit" name="since" value="30d" class="current"' in html
    assert "CSAT per day" in html


LIVE = "Updated 14:00 · refreshes every minute"


@pytest.mark.parametrize(
    ("path", "refresh", "line"),
    [
        # The present (up to now, or up to today's end in Chisinau): reloads itself.
        ("/dashboard?since=7d", "60", LIVE),
        ("/dashboard?from=2026-11-10&to=2026-11-20", "60", LIVE),
        # A past week does not change: no reloading.
        (WEEK, "0", "Updated 14:00</p>"),
    ],
)
async def test_a_board_of_the_present_refreshes_itself_and_a_past_one_does_not(
    seeded: Site, http: aiohttp.ClientSession, path: str, refresh: str, line: str
) -> None:
    await log_in(http, seeded, "boss")
    status, html = await dashboard(http, seeded, path)
    assert status == 200
    assert f'data-refresh-seconds="{refresh}"' in html
    assert line in html  # now 12:00 UTC is 14:00 in Chisinau
    assert '<div id="board">' in html  # what console.js swaps (not the period picker)


async def test_an_empty_period_says_so_in_every_section(
    seeded: Site, http: aiohttp.ClientSession
) -> None:
    await log_in(http, seeded, "boss")
    status, html = await dashboard(http, seeded, "/dashboard?from=2025-01-01&to=2025-01-31")
    assert status == 200
    # Service, the two trends, funnels, drivers: a sentence each, and no empty axes.
    assert html.count(EMPTY) == 5
    assert "<svg" not in html and 'class="tiles"' not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01", "From: &#39;2026-13-01&#39; is not a date like 2026-11-30"),
        ("from=2026-11-08&to=2026-11-01", "To 2026-11-01 is before From 2026-11-08"),
        ("since=soon", "Period: `soon` is not a duration"),
        ("since=0d", "Period: `0d` is zero"),
        ("since=400d", "The dashboard shows at most 366 days; pick a shorter period"),
        ("since=7d&from=2026-11-01", "Give Period or From/To, not both"),
        ("since=99999999999d", "Period: `99999999999d` is longer than ten years"),
        ("to=9999-12-31", "9999-12-31 is outside the dates a report can cover"),
        ("from=0001-01-01", "0001-01-01 is outside the dates a report can cover"),
    ],
)
async def test_a_bad_period_gets_a_sentence_and_the_picker(
    seeded: Site, http: aiohttp.ClientSession, query: str, message: str
) -> None:
    await log_in(http, seeded, "boss")
    status, html = await dashboard(http, seeded, "/dashboard?" + query)
    assert status == 400
    assert '<p class="form-error" role="alert">' + message in html
    assert 'name="from"' in html and 'name="since" value="7d"' in html  # pick again
    assert 'class="tiles"' not in html


async def test_only_supervisors_see_the_dashboard(
    seeded: Site, http: aiohttp.ClientSession
) -> None:
    await log_in(http, seeded, "ann")
    status, html = await dashboard(http, seeded)
    assert status == 403 and "Supervisors only" in html
    _, desk = await dashboard(http, seeded, "/")
    assert "/console/dashboard" not in desk
    http.cookie_jar.clear()
    status, _ = await dashboard(http, seeded)
    assert status == 303  # logged out: to the login page
    await log_in(http, seeded, "boss")
    _, desk = await dashboard(http, seeded, "/")
    assert '<a href="/console/dashboard">Dashboard</a>' in desk


async def test_without_reports_there_is_no_dashboard(
    sqlite_storage: Storage, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    site = await start_site(sqlite_storage, clock, with_reports=False)
    try:
        await site.agent("boss", role=AgentRole.SUPERVISOR)
        await log_in(http, site, "boss")
        status, _ = await dashboard(http, site)
        assert status == 404
        _, desk = await dashboard(http, site, "/")
        assert "/console/dashboard" not in desk and "/console/supervisor" in desk
    finally:
        assert site.runner is not None
        await site.runner.cleanup()
