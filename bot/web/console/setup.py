"""`setup_console`: mount the agent console on Nudge's aiohttp app, with its guard.

The console is a sub-application under `/console`, so its middleware (session, CSRF, security
headers, one unit of work per request) touches none of Nudge's other routes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.domain.clock import Clock
from bot.domain.ports import UnitOfWorkFactory
from bot.handoff.actions import AgentActions
from bot.surveys.follow_ups import FollowUps
from bot.web.console import action_routes, dashboard, login_routes, pages
from bot.web.console.context import (
    CONSOLE_KEY,
    CSRF_FIELD,
    CSRF_HEADER,
    FLASH_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Authenticated,
    Console,
    ReportsFor,
    build_templates,
    console_of,
    error_page,
    redirect,
    reset_current,
    set_current,
    wants_json,
)
from bot.web.console.ratelimit import LoginLimiter
from bot.web.console.sessions import (
    Session,
    SessionCodec,
    secret_key_bytes,
    session_epoch_key,
    with_epoch,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_ROUTES = frozenset({"login", "login_post", "static"})
STATIC_FILES = {"console.js": "application/javascript", "console.css": "text/css"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def setup_console(
    app: web.Application,
    *,
    uow_factory: UnitOfWorkFactory,
    actions: AgentActions,
    clock: Clock,
    secret_key: str | None,
    default_team: str = "support",
    teams: Sequence[str] = (),
    secure_cookies: bool = False,
    on_outbox: Callable[[], None] | None = None,
    prefix: str = "/console",
    poll_seconds: float = 2.0,
    follow_ups: FollowUps | None = None,
    reports: ReportsFor | None = None,
) -> None:
    """Serve the agent console at `prefix` (`/console/`) on `app`.

    `secret_key` signs the sessions (settings.secrets.secret_key); None: a random key for this
    process, with a warning. `default_team` is the team of agents configured without teams;
    `teams` the configured team names (offered as transfer targets with the agents' teams).
    `secure_cookies` (True behind https) marks the cookies Secure. `on_outbox` is called after
    every commit that may have queued a message for a customer (wake the dispatcher).
    `poll_seconds`: how often an open console asks for changes. `follow_ups` (the survey
    service) lists low survey scores on the supervisor page, each with a Reopen button.
    `reports` builds a `ReportService` over given units of work: the supervisors' dashboard
    (`/dashboard`); None: no dashboard.
    """
    static = {name: _static(name) for name in STATIC_FILES}
    console = Console(
        uow_factory=uow_factory,
        actions=actions,
        clock=clock,
        codec=SessionCodec(secret_key_bytes(secret_key), clock),
        limiter=LoginLimiter(clock),
        templates=build_templates(),
        prefix=prefix,
        default_team=default_team,
        teams=tuple(teams),
        secure_cookies=secure_cookies,
        on_outbox=on_outbox or (lambda: None),
        poll_ms=max(200, int(poll_seconds * 1000)),
        static_versions={n: hashlib.sha256(b).hexdigest()[:12] for n, b in static.items()},
        follow_ups=follow_ups,
        reports=reports,
    )
    _mount(app, console, static)


def _mount(app: web.Application, console: Console, static: dict[str, bytes]) -> None:
    sub = web.Application(middlewares=[_guard])
    sub[CONSOLE_KEY] = console
    sub.router.add_get("/static/{name}", _static_handler(static), name="static")
    login_routes.add_routes(sub)
    pages.add_routes(sub)
    action_routes.add_routes(sub)
    dashboard.add_routes(sub)

    async def bare(request: web.Request) -> web.Response:
        return redirect(console.url("/"))

    # Before the sub-application, which would otherwise claim the bare prefix (and 404 it).
    app.router.add_get(console.prefix, bare)
    app.add_subapp(console.prefix, sub)


def _static(name: str) -> bytes:
    return (resources.files("bot.web.console") / "static" / name).read_bytes()


def _static_handler(files: dict[str, bytes]) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in files:
            raise web.HTTPNotFound()
        headers = {"Cache-Control": "public, max-age=31536000, immutable"}
        if not request.query.get("v"):
            headers["Cache-Control"] = "no-cache"
        return web.Response(body=files[name], content_type=STATIC_FILES[name], headers=headers)

    return serve


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_page(request, exc.status, exc.reason, "There is nothing here.")
    _secure_headers(response, static=request.match_info.route.name == "static")
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    console = console_of(request)
    if request.match_info.route.name in PUBLIC_ROUTES:
        if request.method == "POST":
            login = console.codec.read(request.cookies.get(LOGIN_COOKIE))
            if refusal := await _refuse_post(request, login):
                return refusal
        return await handler(request)
    async with console.uow_factory() as uow:
        session = console.codec.read(request.cookies.get(SESSION_COOKIE))
        agent = await uow.agents.get(session.agent_id) if session else None
        if session is None or agent is None or not agent.active:
            return _to_login(request, console)
        epoch = await uow.settings.get(session_epoch_key(agent.id))
        if not console.codec.matches_password(session, with_epoch(agent.password_hash, epoch)):
            return _to_login(request, console)  # password changed or logged out: sessions end
        flash = console.codec.read_flash(request.cookies.get(FLASH_COOKIE))
        token = set_current(Authenticated(agent, session, uow, flash))
        try:
            if request.method == "POST" and (refusal := await _refuse_post(request, session)):
                return refusal
            response = await handler(request)
        finally:
            reset_current(token)
        if flash is not None:
            response.del_cookie(FLASH_COOKIE, path=console.prefix)
        return response


async def _refuse_post(request: web.Request, session: Session | None) -> web.Response | None:
    """403 unless the POST carries this session's CSRF token and comes from this site."""
    console = console_of(request)
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        return _csrf_refused(request, "The request came from another site.")
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.post()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if session is None or not console.codec.csrf_ok(session, token):
        return _csrf_refused(request, "The form has expired or did not come from the console.")
    return None


def _csrf_refused(request: web.Request, why: str) -> web.Response:
    detail = f"{why} Reload the page and try again."
    if wants_json(request):
        return web.json_response({"ok": False, "message": detail}, status=403)
    return error_page(request, 403, "Request refused", detail)


def _to_login(request: web.Request, console: Console) -> web.Response:
    name = request.match_info.route.name or ""
    if wants_json(request) or request.method != "GET" or name.startswith(("api_", "fragment_")):
        response = web.json_response({"login": console.url("/login")}, status=401)
    else:
        response = redirect(console.url("/login") + "?next=" + quote(request.path_qs, safe=""))
    if SESSION_COOKIE in request.cookies:
        response.del_cookie(SESSION_COOKIE, path=console.prefix)
    return response


def _secure_headers(response: web.StreamResponse, *, static: bool) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not static:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
