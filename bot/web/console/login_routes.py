"""Logging in and out of the console.

A wrong key, a wrong password, an agent without a password and a deactivated agent all get
the same answer, so the form does not tell a guesser which agents exist.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import web

from bot.web.console.context import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Console,
    console_of,
    current,
    redirect,
    render,
)
from bot.web.console.passwords import verify_password
from bot.web.console.sessions import Session, session_epoch_key, with_epoch

log = logging.getLogger(__name__)

WRONG = "Wrong agent name or password."
TOO_MANY = "Too many failed attempts. Wait a few minutes and try again."
MAX_FIELD = 1024


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login, name="login_post")
    app.router.add_post("/logout", logout, name="logout")


def _safe_next(console: Console, value: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    home = console.url("/")
    if not value or not value.startswith(console.prefix + "/") or value.startswith("//"):
        return home
    return home if "\\" in value or "://" in value else value


def _login_session(request: web.Request) -> tuple[Session, str | None]:
    """The pre-login session (for the form's CSRF token), and a new cookie when needed."""
    codec = console_of(request).codec
    session = codec.read(request.cookies.get(LOGIN_COOKIE))
    if session is not None:
        return session, None
    cookie = codec.issue(0, None)
    fresh = codec.read(cookie)
    assert fresh is not None
    return fresh, cookie


def _form(
    request: web.Request, *, status: int = 200, error: str | None = None, key: str = ""
) -> web.Response:
    console = console_of(request)
    session, cookie = _login_session(request)
    response = render(
        request,
        "login.html",
        status=status,
        csrf=console.codec.csrf_token(session),
        error=error,
        key=key,
        next=_safe_next(console, request.query.get("next")),
    )
    if cookie is not None:
        response.set_cookie(
            LOGIN_COOKIE, cookie, path=console.prefix, httponly=True, samesite="Lax",
            secure=console.secure_cookies, max_age=int(console.codec.lifetime.total_seconds()),
        )  # fmt: skip
    return response


async def login_page(request: web.Request) -> web.Response:
    return _form(request)


async def login(request: web.Request) -> web.Response:
    console = console_of(request)
    form = await request.post()
    key = str(form.get("key", ""))[:MAX_FIELD].strip()
    password = str(form.get("password", ""))[:MAX_FIELD]
    address = request.remote or "?"
    if console.limiter.blocked(address, key):
        log.warning("console login refused for %r from %s: too many failures", key, address)
        return _form(request, status=429, error=TOO_MANY, key=key)
    async with console.uow_factory() as uow:
        agent = await uow.agents.get_by_key(key) if key else None
        epoch = await uow.settings.get(session_epoch_key(agent.id)) if agent else None
    stored = agent.password_hash if agent is not None and agent.active else None
    # scrypt takes tens of milliseconds: off the event loop, so other agents are not stalled.
    matches = await asyncio.to_thread(verify_password, password, stored)
    if agent is None or not matches:
        console.limiter.failed(address, key)
        log.info("console login failed for %r from %s", key, address)
        return _form(request, status=401, error=WRONG, key=key)
    console.limiter.succeeded(key)
    log.info("console login: %s from %s", agent.key, address)
    response = redirect(_safe_next(console, str(form.get("next", ""))))
    response.set_cookie(
        SESSION_COOKIE, console.codec.issue(agent.id, with_epoch(agent.password_hash, epoch)),
        path=console.prefix, httponly=True, samesite="Lax", secure=console.secure_cookies,
        max_age=int(console.codec.lifetime.total_seconds()),
    )  # fmt: skip
    response.del_cookie(LOGIN_COOKIE, path=console.prefix)
    return response


async def logout(request: web.Request) -> web.Response:
    console = console_of(request)
    state = current()
    if state is not None:  # a new epoch: this cookie, and any copy of it, no longer works
        await state.uow.settings.put(session_epoch_key(state.agent.id), secrets.token_urlsafe(12))
        await state.uow.commit()
    response = redirect(console.url("/login"))
    response.del_cookie(SESSION_COOKIE, path=console.prefix)
    return response
