"""The console's shared state and the helpers every handler uses (render, respond, who)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jinja2
from aiohttp import web

from bot.analytics import ReportService
from bot.domain.clock import Clock
from bot.domain.handoff import Agent
from bot.domain.ports import UnitOfWork, UnitOfWorkFactory
from bot.domain.report_ports import ReportUnitOfWork
from bot.handoff.actions import ActionResult, AgentActions
from bot.surveys.follow_ups import FollowUps
from bot.web.console.ratelimit import LoginLimiter
from bot.web.console.sessions import Session, SessionCodec

SESSION_COOKIE = "nudge_console"
LOGIN_COOKIE = "nudge_console_login"  # the pre-login nonce the login form's CSRF token needs
FLASH_COOKIE = "nudge_console_flash"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
FETCH_HEADER = "X-Requested-With"  # "fetch": the page's script wants JSON, not a redirect

ReportsFor = Callable[[Callable[[], ReportUnitOfWork]], ReportService]
"""Builds the report service over the given units of work; the composition root knows the
clock, the time zone and the funnels' step order (see dashboard.py for why a factory)."""


@dataclass(slots=True)
class Console:
    uow_factory: UnitOfWorkFactory
    actions: AgentActions
    clock: Clock
    codec: SessionCodec
    limiter: LoginLimiter
    templates: jinja2.Environment
    prefix: str
    default_team: str
    teams: tuple[str, ...]
    secure_cookies: bool
    on_outbox: Callable[[], None]
    poll_ms: int
    static_versions: dict[str, str]
    follow_ups: FollowUps | None = None  # None: surveys are off, the list is not shown
    reports: ReportsFor | None = None  # None: no dashboard page

    def url(self, path: str = "/") -> str:
        return self.prefix + path

    def static_url(self, name: str) -> str:
        return f"{self.prefix}/static/{name}?v={self.static_versions.get(name, '0')}"


CONSOLE_KEY = web.AppKey("nudge_console", Console)


def console_of(request: web.Request) -> Console:
    return request.config_dict[CONSOLE_KEY]


@dataclass(slots=True)
class Authenticated:
    """The logged-in agent of the request being handled, and its unit of work."""

    agent: Agent
    session: Session
    uow: UnitOfWork
    flash: tuple[str, bool] | None = None


# Set by the guard for the request's task (aiohttp handles one request at a time per task),
# rather than stored on the request, whose string keys aiohttp now warns about.
_CURRENT: ContextVar[Authenticated | None] = ContextVar("nudge_console_request", default=None)


def set_current(state: Authenticated | None) -> Token[Authenticated | None]:
    return _CURRENT.set(state)


def reset_current(token: Token[Authenticated | None]) -> None:
    _CURRENT.reset(token)


def current() -> Authenticated | None:
    return _CURRENT.get()


def _required() -> Authenticated:
    state = _CURRENT.get()
    if state is None:
        raise RuntimeError("a console page was served without a logged-in agent")
    return state


def agent_of(request: web.Request) -> Agent:
    return _required().agent


def uow_of(request: web.Request) -> UnitOfWork:
    return _required().uow


def wants_json(request: web.Request) -> bool:
    return request.headers.get(FETCH_HEADER) == "fetch"


def duration(value: timedelta) -> str:
    """A waiting time the way people say it: 45s, 12m, 3h 5m, 2d 4h."""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def clock_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def build_templates() -> jinja2.Environment:
    """The console's own environment: autoescaped, strict, separate from `templates/`."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = duration
    env.filters["clock"] = clock_time
    return env


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    console = console_of(request)
    state = current()
    base = {
        "console": console,
        "agent": state.agent if state else None,
        "csrf": console.codec.csrf_token(state.session) if state else "",
        "now": console.clock.now(),
        "flash": state.flash if state else None,
    }
    text = console.templates.get_template(template).render(base | context)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def error_page(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    return render(request, "error.html", status=status, title=title, detail=detail)


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def respond(
    request: web.Request, result: ActionResult, location: str, *, leave: bool = False
) -> web.Response:
    """JSON for the page's script; otherwise a redirect that shows the sentence as a flash.

    `leave`: the page should go to `location` (e.g. after a transfer the chat is gone).
    """
    console = console_of(request)
    if wants_json(request):
        answer = {"ok": result.ok, "message": result.message}
        return web.json_response(answer | ({"location": location} if leave else {}))
    response = redirect(location)
    response.set_cookie(
        FLASH_COOKIE,
        console.codec.flash(result.message, result.ok),
        path=console.prefix,
        httponly=True,
        samesite="Lax",
        secure=console.secure_cookies,
        max_age=120,
    )
    return response
