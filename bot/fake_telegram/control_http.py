"""HTTP control API under ``/_fake/`` for a server running in another process.

Bodies and answers are JSON; answers are ``{"ok": true, "result": ...}`` or
``{"ok": false, "description": "..."}`` with status 400.

- ``POST /_fake/bots`` ``{"token", "username"?, "first_name"?}``: register a bot.
- ``POST /_fake/users`` ``{"user_id", "first_name"?, "last_name"?, "username"?,
  "language_code"?}``: add a user.
- ``POST /_fake/groups`` ``{"chat_id", "title", "is_forum"?, "members"?, "admins"?}``.
- ``POST /_fake/send_text`` ``{"token", "user_id", "text", "chat_id"?, "thread_id"?}``:
  the user writes to the bot; result: the Update.
- ``POST /_fake/press_button`` ``{"token", "user_id", "chat_id", "message_id", "data"}``.
- ``POST /_fake/block`` ``{"token", "user_id", "blocked"?: true}``.
- ``POST /_fake/updates`` ``{"token", "update"}``: queue a raw update.
- ``GET /_fake/messages?token=T[&chat_id=C][&offset=N][&limit=N]``: sent messages;
  result ``{"total", "messages": [...]}``.
- ``GET /_fake/stats[?token=T][&window=SECONDS][&chat_id=C]``: ``{"calls": {method:
  {status: n}}, "messages": n, "max_sends_in_window": n}`` (the last two need ``token``).
- ``GET /_fake/calls?token=T[&method=M]``: the Bot API requests of that bot, oldest first:
  ``[{"method", "status", "at", "port", "description", "fault"}]``.
- ``POST /_fake/listen`` ``{"port"?: 0}``: serve the Bot API on one more port as well;
  result ``{"base_url"}``. Each call records the port it came in on.
- ``POST /_fake/faults`` ``{"kind": "retry_after|blocked|bad_request|server_error|slow|
  drop_after_read", "method"?: "sendMessage", "times"?: 1, "chat_id"?, "token"?,
  "seconds"?, "status"?, "description"?}``; ``DELETE /_fake/faults`` clears all faults.
- ``POST /_fake/random_faults`` ``{"retry_after"?, "server_error"?, "drop"?, "seed"?,
  "methods"?}``: probabilities per request (all 0 = off).
- ``POST /_fake/reset``: forget calls, messages, updates and faults.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.fake_telegram.faults import Fault, FaultKind

if TYPE_CHECKING:
    from bot.fake_telegram.server import FakeTelegramServer

Body = dict[str, Any]
Action = Callable[[Body], Awaitable[Any]]


def _answer(result: Any, status: int = 200, description: str | None = None) -> web.Response:
    body: Body = (
        {"ok": True, "result": result}
        if description is None
        else {
            "ok": False,
            "description": description,
        }
    )
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


def _endpoint(action: Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        body: Body = dict(request.query)
        if request.can_read_body:
            try:
                loaded = json.loads(await request.read() or b"{}")
            except ValueError:
                return _answer(None, 400, "body is not JSON")
            if not isinstance(loaded, dict):
                return _answer(None, 400, "body must be a JSON object")
            body.update(loaded)
        try:
            return _answer(await action(body))
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            return _answer(None, 400, f"{type(exc).__name__}: {exc}")

    return handle


def _fault(body: Body) -> Fault:
    kind = FaultKind(body["kind"])
    if kind is FaultKind.RETRY_AFTER:
        return Fault.retry_after(int(body.get("seconds", 1)))
    if kind is FaultKind.BLOCKED:
        return Fault.blocked()
    if kind is FaultKind.BAD_REQUEST:
        return Fault.bad_request(str(body.get("description", "fault injected")))
    if kind is FaultKind.SERVER_ERROR:
        return Fault.server_error(int(body.get("status", 500)))
    if kind is FaultKind.SLOW:
        return Fault.slow(float(body.get("seconds", 1.0)))
    return Fault.drop_after_read()


def _optional_int(body: Body, key: str) -> int | None:
    value = body.get(key)
    return None if value is None or value == "" else int(value)


def _actions(server: FakeTelegramServer) -> dict[tuple[str, str], Action]:
    return {
        **_setup_actions(server),
        **_user_actions(server),
        **_query_actions(server),
        **_fault_actions(server),
    }


def _setup_actions(server: FakeTelegramServer) -> dict[tuple[str, str], Action]:
    async def add_bot(b: Body) -> Any:
        return server.add_bot(b["token"], b.get("username"), b.get("first_name")).user.to_dict()

    async def add_user(b: Body) -> Any:
        user = server.add_user(
            int(b["user_id"]),
            b.get("first_name", "User"),
            b.get("last_name"),
            b.get("username"),
            b.get("language_code"),
        )
        return user.to_dict()

    async def add_group(b: Body) -> Any:
        group = server.add_group(
            int(b["chat_id"]),
            b["title"],
            bool(b.get("is_forum", False)),
            b.get("members", ()),
            b.get("admins", ()),
            b.get("username"),
        )
        return group.chat_dict()

    async def listen(b: Body) -> Any:
        return {"base_url": await server.listen_also(_optional_int(b, "port") or 0)}

    return {
        ("POST", "/_fake/listen"): listen,
        ("POST", "/_fake/bots"): add_bot,
        ("POST", "/_fake/users"): add_user,
        ("POST", "/_fake/groups"): add_group,
    }


def _user_actions(server: FakeTelegramServer) -> dict[tuple[str, str], Action]:
    async def send_text(b: Body) -> Any:
        chat = _optional_int(b, "chat_id")
        thread = _optional_int(b, "thread_id")
        return await server.send_text(b["token"], int(b["user_id"]), b["text"], chat, thread)

    async def press_button(b: Body) -> Any:
        message = {"chat": {"id": int(b["chat_id"])}, "message_id": int(b["message_id"])}
        return await server.press_button(b["token"], int(b["user_id"]), message, b["data"])

    async def block(b: Body) -> Any:
        return await server.set_blocked(b["token"], int(b["user_id"]), bool(b.get("blocked", 1)))

    async def push(b: Body) -> Any:
        return await server.push_update(b["token"], b["update"])

    return {
        ("POST", "/_fake/send_text"): send_text,
        ("POST", "/_fake/press_button"): press_button,
        ("POST", "/_fake/block"): block,
        ("POST", "/_fake/updates"): push,
    }


def _query_actions(server: FakeTelegramServer) -> dict[tuple[str, str], Action]:
    async def messages(b: Body) -> Any:
        found = server.sent_messages(b["token"], _optional_int(b, "chat_id"))
        offset = _optional_int(b, "offset") or 0
        limit = _optional_int(b, "limit")
        chunk = found[offset : None if limit is None else offset + limit]
        return {"total": len(found), "messages": [m.to_json() for m in chunk]}

    async def stats(b: Body) -> Any:
        token = b.get("token")
        result: Body = {"calls": server.stats(token)}
        if token:
            chat_id = _optional_int(b, "chat_id")
            result["messages"] = len(server.world.bot(token).messages.for_chat(chat_id))
            window = b.get("window")
            if window:
                result["max_sends_in_window"] = server.max_sends_in_window(
                    token, float(window), chat_id
                )
        return result

    async def calls(b: Body) -> Any:
        method = b.get("method") or None
        return [call.to_json() for call in server.calls(method, b["token"])]

    return {
        ("GET", "/_fake/messages"): messages,
        ("GET", "/_fake/stats"): stats,
        ("GET", "/_fake/calls"): calls,
    }


def _fault_actions(server: FakeTelegramServer) -> dict[tuple[str, str], Action]:
    async def add_fault(b: Body) -> Any:
        times = b.get("times", 1)
        server.inject_fault(
            b.get("method", "sendMessage"),
            _fault(b),
            None if times is None else int(times),
            b.get("chat_id"),
            b.get("token"),
        )
        return True

    async def clear_faults(b: Body) -> Any:
        server.clear_faults()
        return True

    async def random_faults(b: Body) -> Any:
        server.set_random_faults(
            retry_after=float(b.get("retry_after", 0)),
            server_error=float(b.get("server_error", 0)),
            drop=float(b.get("drop", 0)),
            seed=_optional_int(b, "seed"),
            methods=b.get("methods", ["sendMessage"]),
            retry_after_seconds=int(b.get("retry_after_seconds", 1)),
        )
        return True

    async def reset(b: Body) -> Any:
        server.reset()
        return True

    return {
        ("POST", "/_fake/faults"): add_fault,
        ("DELETE", "/_fake/faults"): clear_faults,
        ("POST", "/_fake/random_faults"): random_faults,
        ("POST", "/_fake/reset"): reset,
    }


def add_control_routes(app: web.Application, server: FakeTelegramServer) -> None:
    """Serve the ``/_fake/`` control API for ``server``."""
    for (method, path), action in _actions(server).items():
        app.router.add_route(method, path, _endpoint(action))
    index = sorted(f"{method} {path}" for method, path in _actions(server))

    async def describe(request: web.Request) -> web.StreamResponse:
        return _answer({"endpoints": index, "doc": __doc__})

    app.router.add_get("/_fake/", describe)
