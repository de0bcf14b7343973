"""Console sessions: a planted (fixated) cookie, forged cookies, cookies from another install,
the pre-login cookie used as a session, and a cookie replayed after logging out."""

from __future__ import annotations

import base64
import json

import aiohttp

from bot.domain.clock import FakeClock
from bot.domain.handoff import AgentRole
from bot.web.console.sessions import SessionCodec
from tests.web.console.harness import Site, csrf_in, log_in, page_token

SESSION = "nudge_console"


def _jar(value: str, name: str = SESSION) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    session.cookie_jar.update_cookies({name: value})
    return session


async def _home_status(http: aiohttp.ClientSession, site: Site) -> int:
    async with http.get(site.console + "/", allow_redirects=False) as page:
        return page.status  # 200: logged in; 303: sent to the login page


async def test_a_planted_session_cookie_is_replaced_at_login(
    site: Site, http: aiohttp.ClientSession
) -> None:
    """Session fixation: Mallory plants her own valid cookie in Alice's browser; Alice's login
    gives that browser a new session of Alice's, and Mallory's cookie stays Mallory's."""
    await site.agent("mallory")
    await site.agent("boss", role=AgentRole.SUPERVISOR)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as mallory:
        planted = (await log_in(mallory, site, "mallory")).cookies[SESSION].value
    http.cookie_jar.update_cookies({SESSION: planted})
    assert await _home_status(http, site) == 200  # the browser is now "Mallory"

    issued = (await log_in(http, site, "boss")).cookies[SESSION].value

    assert issued != planted
    async with _jar(planted) as attacker, attacker.get(site.console + "/supervisor") as page:
        assert page.status == 403  # still only Mallory, an agent: no supervisor pages


async def test_a_cookie_with_an_edited_payload_is_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.agent("alice")
    boss = await site.agent("boss", role=AgentRole.SUPERVISOR)
    value = (await log_in(http, site, "alice")).cookies[SESSION].value
    body, signature = value.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["a"] = boss.id  # claim to be the supervisor, keeping Alice's signature
    edited = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    for forged in (f"{edited}.{signature}", f"{body}.", body, "", "a.b.c", f"{body}.{body}"):
        async with _jar(forged) as forger:
            assert await _home_status(forger, site) == 303, forged


async def test_a_cookie_signed_by_another_install_is_refused(site: Site) -> None:
    alice = await site.agent("alice")
    other = SessionCodec(b"another install's secret key", site.clock)
    async with _jar(other.issue(alice.id, alice.password_hash)) as foreign:
        assert await _home_status(foreign, site) == 303


async def test_the_pre_login_cookie_is_not_a_session(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(site.console + "/login") as page:
        csrf_in(await page.text())
    login_cookie = next(c.value for c in http.cookie_jar if c.key == "nudge_console_login")
    async with _jar(login_cookie) as visitor:
        assert await _home_status(visitor, site) == 303


async def test_a_session_cookie_replayed_after_logout_is_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    """A cookie copied from a shared computer must stop working when its agent logs out."""
    await site.agent("alice")
    captured = (await log_in(http, site, "alice")).cookies[SESSION].value
    token = await page_token(http, site)
    async with http.post(site.console + "/logout", data={"csrf": token}, allow_redirects=False):
        pass
    async with _jar(captured) as thief:
        assert await _home_status(thief, site) == 303
    site.clock.advance(5)
    await log_in(http, site, "alice")  # logging in again afterwards works as before
    assert await _home_status(http, site) == 200


def test_the_session_clock_is_the_injected_one() -> None:
    clock = FakeClock()
    codec = SessionCodec(b"k", clock)
    cookie = codec.issue(1, "hash")
    clock.advance(12 * 3600 + 1)
    assert codec.read(cookie) is None
