"""Low survey scores on the supervisor page: listed with the comment, reopened with one press."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from bot.domain.handoff import AgentRole, HandoffStatus
from tests.web.console.harness import Site, json_headers, log_in, page_token


async def _low_score(site: Site, name: str, score: int, comment: str | None) -> int:
    """Mia's chat, taken and closed by Alice; Mia answers the survey with `score`."""
    alice = await site.agent("alice")
    handoff = await site.customer_asks(name)
    async with site.storage.uow() as uow:
        assert (await site.service.take(uow, handoff.id, alice)).ok
        assert (await site.service.reply(uow, handoff.id, alice, "Done!", via="console")).ok
        assert (await site.service.close(uow, handoff.id, alice)).ok
        await uow.commit()
    site.clock.advance(timedelta(minutes=11))  # past the survey's delay
    async with site.storage.uow() as uow:
        [asked] = await uow.surveys.for_contact(handoff.contact_id)
        contact = await uow.contacts.get(handoff.contact_id)
        assert contact is not None
        reply = await site.surveys.answer(uow, contact, f"sv:{asked.id}:{score}", site.clock.now())
        assert reply is not None and reply.response is not None
        if comment is not None:
            assert await site.surveys.comment(uow, contact, comment, site.clock.now())
        await uow.commit()
    return asked.id


async def test_a_supervisor_sees_a_low_score_and_reopens_the_chat(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("boss", role=AgentRole.SUPERVISOR)
    response_id = await _low_score(site, "Mia <b>", 1, "Nobody <i>listened</i>")
    await log_in(http, site, "boss")
    token = await page_token(http, site, "/supervisor")
    async with http.get(site.console + "/supervisor") as page:
        html = await page.text()
    assert "Low survey scores to follow up" in html
    assert '<strong>Mia &lt;b&gt;</strong> gave <strong class="score">1 / 5</strong>' in html
    assert "Nobody &lt;i&gt;listened&lt;/i&gt;" in html  # the comment is shown as text
    assert "about a chat with <strong>Alice</strong>" in html

    reopen = f"{site.console}/follow-ups/{response_id}/reopen"
    async with http.post(reopen, headers=json_headers(token)) as answer:
        body = await answer.json()
    assert body["ok"] is True and body["message"] == "The chat is back in the queue."
    async with site.storage.uow() as uow:
        [handoff] = await uow.handoffs.open()
        reopened = await uow.surveys.get(response_id)
    assert handoff.status in (HandoffStatus.QUEUED, HandoffStatus.OFFERED)
    assert body["location"] == f"/console/chats/{handoff.id}"
    assert reopened is not None and reopened.reopened_at == site.clock.now()

    async with http.post(reopen, headers=json_headers(token)) as answer:
        assert (await answer.json()) == {"ok": False, "message": "This chat was reopened already."}
    async with http.get(site.console + "/supervisor") as page:
        assert "No low scores waiting." in await page.text()


async def test_a_good_score_is_not_listed_and_agents_cannot_reopen(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("boss", role=AgentRole.SUPERVISOR)
    low = await _low_score(site, "Ana", 2, None)
    await _low_score(site, "Ben", 5, None)
    await log_in(http, site, "alice")
    token = await page_token(http, site, "/")
    reopen = f"{site.console}/follow-ups/{low}/reopen"
    async with http.post(reopen, headers=json_headers(token)) as answer:
        assert answer.status == 403
    async with site.storage.uow() as uow:
        assert not await uow.handoffs.open()  # nothing was reopened

    await http.get(site.console + "/logout")
    http.cookie_jar.clear()
    await log_in(http, site, "boss")
    async with http.get(site.console + "/supervisor") as page:
        html = await page.text()
    assert "<strong>Ana</strong> gave" in html and "<strong>Ben</strong>" not in html
    async with http.post(
        f"{site.console}/follow-ups/999/reopen",
        headers=json_headers(await page_token(http, site, "/supervisor")),
    ) as answer:
        assert (await answer.json()) == {"ok": False, "message": "There is no such survey answer."}
