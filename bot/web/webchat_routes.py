"""The web chat's HTTP side: the demo page, the widget script and the widget's WebSocket.

The socket speaks the frames of `bot.channels.webchat.protocol`. It is the only web chat module
that knows aiohttp: everything it decides is delegated to `WebchatBackend` and `WebchatHub`.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from bot.channels.webchat.backend import WebchatBackend
from bot.channels.webchat.hub import WebchatHub
from bot.channels.webchat.protocol import (
    MAX_FRAME_BYTES,
    ButtonPress,
    ChatText,
    ClientFrame,
    Frame,
    Hello,
    Invalid,
    LinkTelegram,
    ack_frame,
    error_frame,
    parse_client_frame,
    telegram_link_frame,
    welcome_frame,
)

log = logging.getLogger(__name__)

HELLO_TIMEOUT_SECONDS = 15.0
HEARTBEAT_SECONDS = 30.0
# A person types far slower than this; the burst lets the widget re-send a backlog of unacked
# messages after a reconnect without being refused.
RATE_PER_SECOND = 10.0
RATE_BURST = 20.0
MAX_REFUSED_FRAMES = 100  # a client still flooding after this many refusals is cut off
WIDGET_MAX_AGE_SECONDS = 300  # short, so a fix reaches every shop soon; the ETag saves bytes
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def add_webchat_routes(
    app: web.Application,
    backend: WebchatBackend,
    hub: WebchatHub,
    *,
    title: str,
    allowed_origins: list[str],
) -> None:
    """Serve `GET /` (demo shop page), `GET /widget.js` and `GET /webchat/ws`.

    `allowed_origins` lists the shop sites that embed the widget ("https://shop.example");
    "*" allows every site. The server's own origin and localhost are always allowed.
    """
    routes = _WebchatRoutes(backend, hub, title, allowed_origins)
    app.on_shutdown.append(routes.close_all)
    app.router.add_get("/", routes.demo)
    app.router.add_get("/widget.js", routes.widget)
    app.router.add_get("/webchat/ws", routes.socket)


def _static(name: str) -> str:
    return (resources.files("bot.channels.webchat") / "static" / name).read_text("utf-8")


def _normalize_origin(value: str) -> str | None:
    """The origin as scheme://host[:port] in lower case, no default port; None if malformed."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


class _RateLimit:
    """A token bucket on the event loop's clock."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tokens = RATE_BURST
        self._last = loop.time()

    def allow(self) -> bool:
        now = self._loop.time()
        self._tokens = min(RATE_BURST, self._tokens + (now - self._last) * RATE_PER_SECOND)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class _Socket:
    """One browser tab, as the hub sees it.

    The lock keeps the receive loop's acks and the dispatcher's pushes from interleaving on
    the wire.
    """

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._lock = asyncio.Lock()

    async def send_json(self, frame: Frame, /) -> None:
        async with self._lock:
            await self._ws.send_json(frame)


@dataclass(slots=True)
class _Session:
    token: str
    language: str | None
    socket: _Socket


class _WebchatRoutes:
    def __init__(
        self, backend: WebchatBackend, hub: WebchatHub, title: str, allowed_origins: list[str]
    ) -> None:
        self._backend = backend
        self._hub = hub
        self._allow_all = "*" in allowed_origins
        self._allowed = {_normalize_origin(origin) for origin in allowed_origins} - {None}
        self._demo = _static("demo.html").replace("{{title}}", html.escape(title))
        self._widget = _static("widget.js")
        self._widget_etag = '"' + hashlib.sha256(self._widget.encode()).hexdigest()[:20] + '"'
        self._open: set[web.WebSocketResponse] = set()

    async def close_all(self, app: web.Application) -> None:
        """On shutdown: tell every tab to go away, so they reconnect to the next process
        (instead of the shutdown waiting for sockets that idle for hours)."""
        for ws in list(self._open):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server restarting")

    async def demo(self, request: web.Request) -> web.Response:
        return web.Response(text=self._demo, content_type="text/html")

    async def widget(self, request: web.Request) -> web.Response:
        headers = {
            "Cache-Control": f"public, max-age={WIDGET_MAX_AGE_SECONDS}",
            "ETag": self._widget_etag,
            "X-Content-Type-Options": "nosniff",
            # Shops may load it with `crossorigin` or under Cross-Origin-Embedder-Policy.
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
        }
        if request.headers.get("If-None-Match") == self._widget_etag:
            return web.Response(status=304, headers=headers)
        return web.Response(
            text=self._widget, content_type="application/javascript", headers=headers
        )

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            # Browsers always send Origin on a WebSocket; the check protects their users from
            # hostile pages, and a non-browser client could forge any Origin anyway.
            return True
        normalized = _normalize_origin(origin)
        if normalized is None:
            return False  # "null" (sandboxed frames, file://) and garbage
        hostname = urlsplit(normalized).hostname
        if hostname in LOCAL_HOSTS or normalized.split("://", 1)[1] == request.host.lower():
            return True
        return self._allow_all or normalized in self._allowed

    async def socket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            log.info("web chat socket refused for origin %r", request.headers.get("Origin"))
            raise web.HTTPForbidden(text="This site may not open the chat.")
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        self._open.add(ws)
        try:
            session = await self._greet(ws)
            if session is not None:
                self._hub.register(session.token, session.socket)
                try:
                    await self._serve(ws, session)
                finally:
                    self._hub.unregister(session.token, session.socket)
        except ConnectionError:
            pass  # the tab went away while we were answering it
        finally:
            self._open.discard(ws)
        if not ws.closed:
            await ws.close()
        return ws

    async def _greet(self, ws: web.WebSocketResponse) -> _Session | None:
        """Wait for hello, answer welcome; None (socket closed) when that fails."""
        socket = _Socket(ws)
        try:
            message = await ws.receive(timeout=HELLO_TIMEOUT_SECONDS)
        except TimeoutError:
            await socket.send_json(error_frame("No hello received in time."))
            await ws.close(code=WSCloseCode.POLICY_VIOLATION)
            return None
        if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return None  # closed or broken before saying anything
        hello = parse_client_frame(message.data)
        if not isinstance(hello, Hello):
            problem = hello.message if isinstance(hello, Invalid) else "Say hello first."
            await socket.send_json(error_frame(problem))
            await ws.close(code=WSCloseCode.POLICY_VIOLATION)
            return None
        try:
            token, history = await self._backend.open_session(hello.visitor_token, hello.language)
        except Exception:
            log.exception("could not open a web chat session")
            await socket.send_json(error_frame("The chat is unavailable right now."))
            await ws.close(code=WSCloseCode.INTERNAL_ERROR)
            return None
        telegram = self._backend.telegram_available
        await socket.send_json(welcome_frame(token, history, telegram=telegram))
        return _Session(token=token, language=hello.language, socket=socket)

    async def _serve(self, ws: web.WebSocketResponse, session: _Session) -> None:
        limit = _RateLimit(asyncio.get_running_loop())
        refused = 0
        async for message in ws:
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break  # ERROR: e.g. a frame over the size limit; aiohttp closes the socket
            if not limit.allow():
                refused += 1
                if refused >= MAX_REFUSED_FRAMES:
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION)
                    break
                await session.socket.send_json(error_frame("Too many messages; slow down."))
                continue
            reply = await self._answer(session, parse_client_frame(message.data))
            await session.socket.send_json(reply)

    async def _answer(self, session: _Session, frame: ClientFrame | Invalid) -> Frame:
        if isinstance(frame, Invalid):
            return error_frame(frame.message)
        if isinstance(frame, ChatText | ButtonPress):
            try:
                stored = await self._backend.accept(session.token, frame, language=session.language)
            except Exception:
                log.exception("could not store a web chat message")
                # No ack: the widget keeps the message and sends it again with the same id.
                return error_frame("The message could not be saved yet; it will be retried.")
            return ack_frame(frame.client_id, duplicate=not stored)
        if isinstance(frame, LinkTelegram):
            return await self._telegram_link(session.token)
        return error_frame("The chat is already open; hello is only sent once.")

    async def _telegram_link(self, token: str) -> Frame:
        try:
            url = await self._backend.telegram_link(token)
        except Exception:
            log.exception("could not create a Telegram link")
            return telegram_link_frame(None, "Telegram is unavailable right now.")
        if url is None:
            return telegram_link_frame(None, "This shop does not chat on Telegram.")
        return telegram_link_frame(url)
