"""The Events API over HTTP: `POST /api/v1/events` and `POST /api/v1/contacts/link`.

Every request is signed (`bot.events.signing`); without a secret configured the API is off
and says how to turn it on, since accepting unsigned events would let anyone message customers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.domain.clock import Clock
from bot.events.parsing import EventError
from bot.events.service import EventsService
from bot.events.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

EVENTS_PATH = "/api/v1/events"
LINK_PATH = "/api/v1/contacts/link"
MAX_BODY_BYTES = 64 * 1024
DISABLED = "events API disabled: set NUDGE_EVENTS_SECRET"

Handler = Callable[[web.Request], Awaitable[web.Response]]
Action = Callable[[bytes], Awaitable[web.Response]]


def add_events_routes(
    app: web.Application,
    service: EventsService,
    *,
    secret: str | None,
    clock: Clock,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> None:
    """Serve the Events API on `app`; `secret` is NUDGE_EVENTS_SECRET (None: answer 503)."""

    async def ingest(body: bytes) -> web.Response:
        accepted = await service.ingest(body)
        event = accepted.event
        answer = {
            "ok": True,
            "id": event.key,
            "duplicate": accepted.duplicate,
            "event_id": event.id,
            "contact_id": event.contact_id,
            "contact_created": accepted.contact_created,
        }
        return web.json_response(answer, status=200 if accepted.duplicate else 202)

    async def link(body: bytes) -> web.Response:
        made = await service.link(body)
        answer = {
            "ok": True,
            "url": made.url,
            "expires_at": made.expires_at.isoformat(),
            "contact_id": made.contact_id,
            "contact_created": made.contact_created,
        }
        return web.json_response(answer)

    app.router.add_post(EVENTS_PATH, _signed(ingest, secret, clock, max_body_bytes))
    app.router.add_post(LINK_PATH, _signed(link, secret, clock, max_body_bytes))


def _signed(action: Action, secret: str | None, clock: Clock, limit: int) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        if secret is None:
            return _error(503, DISABLED)
        body = await _read_at_most(request, limit)
        if body is None:
            return _error(413, f"the body is larger than {limit} bytes")
        headers = request.headers
        problem = verify(
            secret, headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER), body, clock.now()
        )
        if problem is not None:
            return _error(401, problem)
        try:
            return await action(body)
        except EventError as exc:
            return _error(exc.status, exc.message, exc.field)

    return handle


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` (never read further)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    answer: dict[str, Any] = {"ok": False, "error": message}
    if field is not None:
        answer["field"] = field
    return web.json_response(answer, status=status)
