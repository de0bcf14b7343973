"""The console over real HTTP (aiohttp client): logins, sessions, CSRF, roles, headers."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from bot.domain.handoff import AgentRole, HandoffStatus
from tests.web.console.harness import (
    PASSWORD,
    Site,
    csrf_in,
    json_headers,
    log_in,
    page_token,
)

WRONG = "Wrong agent name or password."


async def test_a_wrong_login_gets_the_same_answer_whatever_was_wrong(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("alice")
    await site.agent("nopass", password=None)
    gone = await site.agent("gone")
    async with site.storage.uow() as uow:
        await uow.agents.set_active(gone.id, False)
        await uow.commit()
    for key, password in [("alice", "wrong password"), ("nobody", PASSWORD),
                          ("nopass", ""), ("nopass", PASSWORD), ("gone", PASSWORD)]:  # fmt: skip
        response = await log_in(http, site, key, password)
        assert response.status == 401, key
        assert "nudge_console" not in {c.key for c in http.cookie_jar}, key
        async with http.get(site.console + "/", allow_redirects=False) as page:
            assert page.status == 303  # still logged out
    async with http.get(site.console + "/login") as page:
        token = csrf_in(await page.text())
    form = {"key": "alice", "password": "bad", "csrf": token}
    async with http.post(site.console + "/login", data=form) as page:
        text = await page.text()
    assert page.status == 401 and WRONG in text and 'value="alice"' in text


async def test_logging_in_and_out(site: Site, http: aiohttp.ClientSession) -> None:
    await site.agent("alice")
    response = await log_in(http, site, "alice")
    assert response.status == 303 and response.headers["Location"] == "/console/"
    cookie = response.cookies["nudge_console"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/console"
    async with http.get(site.console, allow_redirects=False) as page:
        assert page.status == 303 and page.headers["Location"] == "/console/"
    token = await page_token(http, site)
    async with http.post(site.console + "/logout", data={"csrf": token}, allow_redirects=False):
        pass
    async with http.get(site.console + "/", allow_redirects=False) as page:
        assert page.status == 303 and page.headers["Location"].startswith("/console/login")


async def test_posts_without_the_right_csrf_token_are_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("alice")
    handoff = await site.customer_asks("Carol")
    # The login form itself needs its token.
    form = {"key": "alice", "password": PASSWORD}
    async with http.post(site.console + "/login", data=form, allow_redirects=False) as page:
        assert page.status == 403 and "Request refused" in await page.text()
    assert (await log_in(http, site, "alice")).status == 303
    token = await page_token(http, site)
    reply = f"{site.console}/chats/{handoff.id}/reply"
    forged = "forged reply"
    for data, headers in [({"text": forged}, {}), ({"text": forged, "csrf": "forged"}, {}),
                          ({"text": forged}, {"X-CSRF-Token": token[:-2] + "xx"})]:  # fmt: skip
        async with http.post(reply, data=data, headers=headers) as page:
            assert page.status == 403
            assert "did not come from the console" in await page.text()
    other_site = {"csrf": token, "text": forged}
    async with http.post(
        reply, data=other_site, headers={"Origin": "https://evil.example"}
    ) as page:
        assert page.status == 403
    assert (await site.handoff(handoff.id)).status is not HandoffStatus.ACTIVE
    assert forged not in await site.outbox_texts()

    async with http.post(reply, data={"text": "Hello Carol"}, headers=json_headers(token)) as page:
        assert page.status == 200 and await page.json() == {"ok": True, "message": "Sent."}
    assert "Hello Carol" in await site.outbox_texts()
    assert site.wakes >= 1


async def test_an_agent_may_not_use_supervisor_pages(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("alice")
    await log_in(http, site, "alice")
    token = await page_token(http, site)
    async with http.get(site.console + "/supervisor") as page:
        assert page.status == 403 and "Supervisors only" in await page.text()
    async with http.post(site.console + "/held/1/approve", data={"csrf": token}) as page:
        assert page.status == 403


async def test_agents_see_their_teams_and_their_chats_only(
    site: Site, http: aiohttp.ClientSession
) -> None:
    billing = await site.agent("bill", teams=("billing",))
    await site.agent("alice")
    handoff = await site.customer_asks("Dora")
    async with site.storage.uow() as uow:
        taken = await site.service.take(uow, handoff.id, billing)
        await uow.commit()
    assert taken.ok
    await log_in(http, site, "alice")
    async with http.get(f"{site.console}/chats/{handoff.id}") as page:
        assert page.status == 403
    async with http.get(f"{site.console}/chats/999") as page:
        assert page.status == 404


async def test_sessions_end_when_the_agent_changes(site: Site, http: aiohttp.ClientSession) -> None:
    alice = await site.agent("alice")
    await log_in(http, site, "alice")
    assert (await page_token(http, site)) != ""
    await site.agent("alice", password="a new password")  # `nudge agents passwd`
    async with http.get(site.console + "/", allow_redirects=False) as page:
        assert page.status == 303
    await log_in(http, site, "alice", "a new password")
    await page_token(http, site)
    async with site.storage.uow() as uow:
        await uow.agents.set_active(alice.id, False)  # `nudge agents deactivate`
        await uow.commit()
    async with http.get(site.console + "/api/changes?after=0") as page:
        assert page.status == 401


async def test_sessions_expire_and_cannot_be_forged(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("alice")
    response = await log_in(http, site, "alice")
    value = response.cookies["nudge_console"].value
    body, signature = value.split(".")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as forger:
        forger.cookie_jar.update_cookies({"nudge_console": body + "." + signature[::-1]})
        async with forger.get(site.console + "/", allow_redirects=False) as page:
            assert page.status == 303
    site.clock.advance(timedelta(hours=12, minutes=1))
    async with http.get(site.console + "/", allow_redirects=False) as page:
        assert page.status == 303


async def test_failed_logins_are_rate_limited(site: Site, http: aiohttp.ClientSession) -> None:
    await site.agent("alice")
    for _ in range(8):
        assert (await log_in(http, site, "alice", "guess guess")).status == 401
    refused = await log_in(http, site, "alice")  # even the right password, for a while
    assert refused.status == 429
    site.clock.advance(timedelta(minutes=11))
    assert (await log_in(http, site, "alice")).status == 303


async def test_security_headers_and_escaping(site: Site, http: aiohttp.ClientSession) -> None:
    await site.agent("alice")
    handoff = await site.customer_asks("<script>window.__pwned=1</script>")
    await log_in(http, site, "alice")
    for path in ("/", f"/chats/{handoff.id}", "/login"):
        async with http.get(site.console + path) as page:
            html = await page.text()
            headers = page.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        assert "<script>window" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html or path == "/login"
    async with http.get(f"{site.console}/chats/{handoff.id}") as page:
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in await page.text()
    async with http.get(site.console + "/static/console.js?v=1") as static:
        assert static.status == 200 and "immutable" in static.headers["Cache-Control"]


async def test_login_never_redirects_off_the_console(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("alice")
    for target in ("//evil.example/", "https://evil.example/", "/console/\\evil", "/elsewhere"):
        async with http.get(site.console + "/login") as page:
            token = csrf_in(await page.text())
        form = {"key": "alice", "password": PASSWORD, "csrf": token, "next": target}
        async with http.post(site.console + "/login", data=form, allow_redirects=False) as page:
            assert page.headers["Location"] == "/console/", target


async def test_the_change_feed(site: Site, http: aiohttp.ClientSession) -> None:
    await site.agent("boss", role=AgentRole.SUPERVISOR)
    await log_in(http, site, "boss")
    async with http.get(site.console + "/api/changes?after=0") as page:
        empty = await page.json()
    assert empty == {"last": 0, "changed": [], "reset": False, "more": False}
    handoff = await site.customer_asks("Eve")
    async with http.get(site.console + "/api/changes?after=0") as page:
        changes = await page.json()
    assert changes["changed"] == [handoff.conversation_id] and changes["last"] > 0
    async with http.get(f"{site.console}/api/changes?after={changes['last']}") as page:
        assert (await page.json())["changed"] == []
    async with http.get(site.console + "/api/changes?after=99999") as page:
        assert (await page.json())["reset"] is True


async def test_canned_transfer_and_back_to_bot(site: Site, http: aiohttp.ClientSession) -> None:
    await site.agent("alice")
    bob = await site.agent("bob")
    first = await site.customer_asks("Ivan")
    second = await site.customer_asks("Jane")
    await log_in(http, site, "alice")
    token = await page_token(http, site)
    headers = json_headers(token)
    chat = f"{site.console}/chats/{first.id}"
    async with http.get(chat) as page:
        html = await page.text()
    for name in site.service.canned_names():
        assert f'<option value="{name}">' in html
    assert '<option value="bob">Bob (bob)</option>' in html
    assert '<option value="support">team support</option>' in html

    before = len(await site.outbox_texts())
    async with http.post(chat + "/canned", data={"name": "greeting"}, headers=headers) as page:
        assert (await page.json())["ok"] is True
    assert len(await site.outbox_texts()) > before
    async with http.post(chat + "/canned", data={"name": "nope"}, headers=headers) as page:
        answer = await page.json()
    assert answer["ok"] is False and "No canned response 'nope'" in answer["message"]

    async with http.post(chat + "/transfer", data={"target": "bob"}, headers=headers) as page:
        answer = await page.json()
    assert answer["ok"] is True and answer["location"] == "/console/"
    assert (await site.handoff(first.id)).agent_id == bob.id
    async with http.post(chat + "/transfer", data={"target": "x"}, headers=headers) as page:
        assert (await page.json())["ok"] is False

    other = f"{site.console}/chats/{second.id}"
    async with http.post(other + "/take", headers=headers) as page:
        assert (await page.json())["ok"] is True
    async with http.post(other + "/back", headers=headers) as page:
        assert (await page.json())["ok"] is True
    returned = await site.handoff(second.id)
    assert returned.status is HandoffStatus.CLOSED and returned.close_reason == "back_to_bot"
    assert (await site.conversation(second.conversation_id)).status == "bot"


async def test_without_javascript_forms_redirect_and_flash(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("alice")
    handoff = await site.customer_asks("Kim")
    await log_in(http, site, "alice")
    chat = f"{site.console}/chats/{handoff.id}"
    token = await page_token(http, site, f"/chats/{handoff.id}")
    form = {"csrf": token, "text": "plain form reply"}
    async with http.post(chat + "/reply", data=form, allow_redirects=False) as page:
        assert page.status == 303 and page.headers["Location"] == f"/console/chats/{handoff.id}"
    async with http.get(chat) as page:
        html = await page.text()
    assert '<div id="flash" role="status" aria-live="polite" class="ok">Sent.</div>' in html
    async with http.get(chat) as page:  # shown once
        assert 'class="ok">Sent.' not in await page.text()
    assert "plain form reply" in await site.outbox_texts()


async def test_sla_deadlines_are_highlighted_for_agents_and_supervisors(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("boss", role=AgentRole.SUPERVISOR)
    late = await site.customer_asks("Late Larry")
    soon = await site.customer_asks("Soon Sara")
    calm = await site.customer_asks("Calm Cleo")
    now = site.clock.now()
    async with site.storage.uow() as uow:
        for handoff, due in ((late, now - timedelta(minutes=1)),
                             (soon, now + timedelta(minutes=1)),
                             (calm, now + timedelta(hours=1))):  # fmt: skip
            handoff.sla_due_at = due
            await uow.handoffs.update(handoff)
        await uow.commit()
    await log_in(http, site, "boss")
    async with http.get(site.console + "/") as page:
        desk = await page.text()
    assert desk.count("sla-breached") == 1 and desk.count("sla-soon") == 1
    assert f'sla-breached" data-handoff="{late.id}"' in desk
    assert "1 SLA breach" in desk
    async with http.get(site.console + "/supervisor") as page:
        supervisor = await page.text()
    section = supervisor.split('id="sla-title"')[1].split("</section>")[0]
    assert "Late Larry" in section and "Soon Sara" in section and "Calm Cleo" not in section


async def test_a_supervisor_rejects_a_held_reply(site: Site, http: aiohttp.ClientSession) -> None:
    tina = await site.agent("tina", trainee=True)
    await site.agent("boss", role=AgentRole.SUPERVISOR)
    handoff = await site.customer_asks("Mia")
    async with site.storage.uow() as uow:
        held = await site.service.reply(uow, handoff.id, tina, "Wrong <answer>")
        await uow.commit()
    assert held.held is not None
    await log_in(http, site, "boss")
    token = await page_token(http, site, "/supervisor")
    async with http.get(site.console + "/supervisor") as page:
        assert ">Wrong &lt;answer&gt;</textarea>" in await page.text()
    reject = f"{site.console}/held/{held.held.id}/reject"
    async with http.post(reject, headers=json_headers(token)) as page:
        assert (await page.json()) == {"ok": True, "message": "Rejected Tina's reply."}
    async with http.post(reject, headers=json_headers(token)) as page:
        assert (await page.json())["ok"] is False  # decided already
    assert not any("Wrong" in text for text in await site.outbox_texts())
