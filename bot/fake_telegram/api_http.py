"""The Bot API over HTTP: ``/bot{token}/{method}``, faults applied, every call recorded."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

from bot.fake_telegram import methods_chats, methods_messages, methods_updates
from bot.fake_telegram.errors import ApiError, not_found, server_error, unauthorized
from bot.fake_telegram.faults import Fault, FaultKind
from bot.fake_telegram.models import ApiCall, JsonDict
from bot.fake_telegram.params import Params, read_params
from bot.fake_telegram.state import BotState
from bot.fake_telegram.world import Handler, World

log = logging.getLogger(__name__)

WORLD_KEY = web.AppKey("fake_telegram_world", World)

METHODS: dict[str, tuple[str, Handler]] = {
    name.lower(): (name, handler)
    for table in (methods_updates.HANDLERS, methods_messages.HANDLERS, methods_chats.HANDLERS)
    for name, handler in table.items()
}


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(body: Any) -> bytes:
    return _ENCODER.encode(body).encode("utf-8")


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type="application/json")


async def handle_bot_api(request: web.Request) -> web.StreamResponse:
    """``GET|POST /bot{token}/{method}``."""
    world = request.app[WORLD_KEY]
    token = request.match_info["token"]
    name = request.match_info["method"]
    bot = world.bots.get(token)
    spec = METHODS.get(name.lower())
    port = _server_port(request)
    if bot is None or spec is None:
        error = unauthorized() if bot is None else not_found()
        at = time.monotonic()
        await world.record_call(
            ApiCall(token, name, {}, error.status, at, error.description, port=port)
        )
        return json_response(error.payload(), error.status)
    method, handler = spec
    try:
        params = await read_params(request)
    except ApiError as exc:
        await _record(world, bot, method, {}, exc.status, exc.payload(), None, port)
        return json_response(exc.payload(), exc.status)
    fault = world.faults.pick(token, method.lower(), params.get("chat_id"))
    status, body = await _execute(world, bot, handler, params, fault)
    if fault is not None and fault.kind is FaultKind.DROP_AFTER_READ:
        await _record(world, bot, method, params, 0, body, fault, port)
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)
    await _record(world, bot, method, params, status, body, fault, port)
    return json_response(body, status)


def _server_port(request: web.Request) -> int | None:
    """The port of ours the request came in on (the server may listen on several)."""
    transport = request.transport
    address = transport.get_extra_info("sockname") if transport is not None else None
    return int(address[1]) if isinstance(address, tuple) and len(address) >= 2 else None


async def _execute(
    world: World, bot: BotState, handler: Handler, params: Params, fault: Fault | None
) -> tuple[int, JsonDict]:
    if fault is not None:
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(fault.seconds)
        elif (error := fault.error()) is not None:
            return error.status, error.payload()
    try:
        result = await handler(world, bot, params)
    except ApiError as exc:
        return exc.status, exc.payload()
    except Exception:
        log.exception("fake Telegram server failed on %s", handler.__name__)
        failure = server_error(500)
        return failure.status, failure.payload()
    return 200, {"ok": True, "result": result}


async def _record(
    world: World,
    bot: BotState,
    method: str,
    params: Params,
    status: int,
    body: JsonDict,
    fault: Fault | None,
    port: int | None,
) -> None:
    description = body.get("description")
    call = ApiCall(
        token=bot.token,
        method=method,
        params=params,
        status=status,
        at=time.monotonic(),
        description=description if isinstance(description, str) else None,
        fault=fault.kind.value if fault is not None else None,
        port=port,
    )
    await world.record_call(call)


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_bot_api)
