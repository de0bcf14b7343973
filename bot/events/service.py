"""What the Events API does once a request is authenticated: store events, issue links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.conversation.shop_link import (
    DEFAULT_LINK_TTL,
    SHOP_LINK_PAYLOAD_PREFIX,
    issue_shop_link_code,
)
from bot.domain.clock import Clock
from bot.domain.events import ApiEvent
from bot.domain.ports import UnitOfWorkFactory
from bot.events.contacts import resolve_contact
from bot.events.parsing import EventError, bad, parse_contact, parse_event, parse_json_object


@dataclass(frozen=True, slots=True)
class Accepted:
    event: ApiEvent
    duplicate: bool
    contact_created: bool = False


@dataclass(frozen=True, slots=True)
class ShopLink:
    url: str
    expires_at: datetime
    contact_id: int
    contact_created: bool


def _nothing() -> None:
    return None


class EventsService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        telegram_username: Callable[[], str | None] = lambda: None,
        on_event: Callable[[], None] = _nothing,
        link_ttl: timedelta = DEFAULT_LINK_TTL,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._telegram_username = telegram_username
        self._on_event = on_event
        self._link_ttl = link_ttl

    async def ingest(self, body: bytes) -> Accepted:
        """Store the event in `body` with its contact, in one transaction; a repeated id
        stores nothing and changes nothing. Raises EventError for a body we refuse."""
        incoming = parse_event(body)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            existing = await uow.api_events.get_by_key(incoming.key)
            if existing is not None:
                return Accepted(existing, duplicate=True)
            contact, created = await resolve_contact(uow, incoming.contact)
            occurred_at = incoming.occurred_at or now
            stored = await uow.api_events.add(
                incoming.key, incoming.type, contact.id, incoming.data, occurred_at, now
            )
            if stored is None:  # the same id arrived concurrently: leave everything as it was
                await uow.rollback()
                existing = await uow.api_events.get_by_key(incoming.key)
                if existing is None:
                    raise EventError(409, "the event was stored concurrently: send it again")
                return Accepted(existing, duplicate=True)
            await uow.commit()
        self._on_event()
        return Accepted(stored, duplicate=False, contact_created=created)

    async def link(self, body: bytes) -> ShopLink:
        """A one-time t.me link that binds the contact in `body` to whoever opens it."""
        value = parse_json_object(body)
        unknown = sorted(set(value) - {"contact"})
        if unknown:
            raise bad(unknown[0], "unknown field (expected contact)")
        ref = parse_contact(value.get("contact"))
        username = self._telegram_username()
        if not username:
            raise EventError(503, "Telegram is not connected: set NUDGE_TELEGRAM_TOKEN")
        now = self._clock.now()
        async with self._uow_factory() as uow:
            contact, created = await resolve_contact(uow, ref)
            code, expires_at = await issue_shop_link_code(uow, contact.id, now, self._link_ttl)
            await uow.commit()
        url = f"https://t.me/{username}?start={SHOP_LINK_PAYLOAD_PREFIX}{code}"
        return ShopLink(url, expires_at, contact.id, created)
