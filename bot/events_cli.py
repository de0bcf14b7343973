"""`nudge events send | link`: talk to the Events API the way a shop would (signed requests)."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.config import EVENTS_SECRET, Settings
from bot.events.signing import signed_headers

CONTACT_KINDS = ("id", "external_id", "telegram_user_id", "phone", "email", "name")
_ANY_HOST = {"0.0.0.0", "::", ""}


def add_events_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = commands.add_parser("events", help="send signed requests to the Events API")
    sub = events.add_subparsers(dest="events_command", metavar="EVENTS_COMMAND", required=True)
    send = sub.add_parser("send", help="POST an event, e.g. cart_abandoned for external_id=42")
    send.add_argument("type", help="the event type, like cart_abandoned or order.paid")
    send.add_argument("--data", default="{}", help="the event's data as a JSON object")
    send.add_argument("--id", dest="event_id", help="the event id (default: a new one)")
    link = sub.add_parser("link", help="ask for a t.me link that binds a shop customer")
    for command in (send, link):
        command.add_argument(
            "--contact",
            action="append",
            required=True,
            metavar="KIND=VALUE",
            help=f"who: {', '.join(CONTACT_KINDS)} (repeat to give several)",
        )
        command.add_argument("--url", help="Nudge's base URL (default: from web.host/web.port)")


def run_events_command(args: argparse.Namespace, settings: Settings) -> int:
    secret = settings.secrets.events_secret
    if secret is None:
        print(f"set {EVENTS_SECRET} (the same secret the server uses)")
        return 1
    try:
        path, payload = _request(args)
    except ValueError as exc:
        print(exc)
        return 2
    url = (args.url or _default_url(settings)).rstrip("/") + path
    status, answer = asyncio.run(post_signed(url, secret.get_secret_value(), payload))
    print(f"HTTP {status}")
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0 if status < 300 else 1


async def post_signed(url: str, secret: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """POST `payload` signed with `secret` now; the status and the decoded answer."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    headers.update(signed_headers(secret, body, datetime.now(UTC)))
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        text = await response.text()
    try:
        return response.status, json.loads(text)
    except json.JSONDecodeError:
        return response.status, text


def _request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    contact = parse_contact_options(args.contact)
    if args.events_command == "link":
        return "/api/v1/contacts/link", {"contact": contact}
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--data is not valid JSON: {exc}") from None
    event_id = args.event_id or f"cli-{uuid.uuid4().hex}"
    return "/api/v1/events", {"id": event_id, "type": args.type, "contact": contact, "data": data}


def parse_contact_options(options: list[str]) -> dict[str, Any]:
    """["external_id=42", "email=a@b.c"] -> {"external_id": "42", "email": "a@b.c"}."""
    contact: dict[str, Any] = {}
    for option in options:
        kind, sep, value = option.partition("=")
        kind = kind.strip()
        if not sep or kind not in CONTACT_KINDS:
            raise ValueError(f"--contact {option!r}: write KIND=VALUE, KIND one of {CONTACT_KINDS}")
        is_number = kind in ("id", "telegram_user_id") and value.strip().isdigit()
        contact[kind] = int(value) if is_number else value
    return contact


def _default_url(settings: Settings) -> str:
    host = settings.web.host
    host = "127.0.0.1" if host in _ANY_HOST else host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.web.port}"
