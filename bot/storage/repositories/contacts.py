"""Contacts and their channel identities."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.sql import Executable

from bot.domain.clock import Clock
from bot.domain.model import Channel, ChannelIdentity, Contact
from bot.storage.repositories._base import (
    Connection,
    InsertFactory,
    PerDialect,
    SqlRepository,
    binds,
)
from bot.storage.survey_tables import survey_responses
from bot.storage.tables import (
    api_events,
    channel_identities,
    contacts,
    conversations,
    coupon_codes,
    enrollments,
    funnel_log,
    handoffs,
    kb_interactions,
    messages,
    outbox,
)

# Keeps `IN (...)` well below SQLite's bound-parameter limit however many ids are asked for.
_IN_CHUNK = 500

# Every table whose rows belong to a contact; merge_into moves them all.
_OWNED_TABLES = (
    channel_identities,
    conversations,
    messages,
    outbox,
    kb_interactions,
    handoffs,
    api_events,
    enrollments,
    coupon_codes,
    funnel_log,
    survey_responses,
)
_IDENTIFIERS = ("external_id", "phone", "email")

# Statements are built once (see `_base`); a WHERE parameter is never named like a column.
_GET = select(contacts).where(contacts.c.id == bindparam("contact_id"))
_GET_MANY = select(contacts).where(contacts.c.id.in_(bindparam("contact_ids", expanding=True)))
_CREATE = (
    contacts.insert()
    .values(binds(contacts, "display_name", "language", "attributes", "created_at", "updated_at"))
    .values(opted_out=False, blocked=False)
    .returning(contacts)
)
_UPDATE = (
    contacts.update()
    .where(contacts.c.id == bindparam("contact_id"))
    .values(
        binds(
            contacts,
            "display_name",
            "language",
            "timezone",
            "opted_out",
            "blocked",
            "start_payload",
            "attributes",
            "updated_at",
            *_IDENTIFIERS,
        )
    )
)
_FIND_BY = {
    name: select(contacts).where(contacts.c[name] == bindparam(f"wanted_{name}"))
    for name in _IDENTIFIERS
}
# Cleared on a merge's source before the target takes them over (they are unique).
_CLEAR_IDENTIFIERS = (
    contacts.update()
    .where(contacts.c.id == bindparam("contact_id"))
    .values(external_id=None, phone=None, email=None)
)


def _build_create_identified(insert: InsertFactory) -> Executable:
    # No conflict target: a clash on any of the unique identifiers stores nothing, where an
    # IntegrityError would abort the whole transaction on PostgreSQL.
    columns = ("display_name", "attributes", "created_at", "updated_at", *_IDENTIFIERS)
    return (
        insert(contacts)
        .values(binds(contacts, *columns))
        .values(opted_out=False, blocked=False)
        .on_conflict_do_nothing()
        .returning(contacts)
    )


_CREATE_IDENTIFIED = PerDialect(_build_create_identified)
_MOVE_OWNED = tuple(
    table.update()
    .where(table.c.contact_id == bindparam("source_id"))
    .values(contact_id=bindparam("target_id", type_=table.c.contact_id.type))
    for table in _OWNED_TABLES
)
_DELETE = contacts.delete().where(contacts.c.id == bindparam("contact_id"))

_FIND_IDENTITY = select(channel_identities).where(
    channel_identities.c.channel == bindparam("channel"),
    channel_identities.c.external_id == bindparam("external_id"),
)
_ADD_IDENTITY = (
    channel_identities.insert()
    .values(
        binds(channel_identities, "contact_id", "channel", "external_id", "address", "username")
    )
    .values(blocked=False)
    .returning(channel_identities)
)
_UPDATE_IDENTITY = (
    channel_identities.update()
    .where(channel_identities.c.id == bindparam("identity_id"))
    .values(binds(channel_identities, "contact_id", "address", "username", "blocked"))
)
_IDENTITIES_OF = (
    select(channel_identities)
    .where(channel_identities.c.contact_id == bindparam("contact_id"))
    .order_by(channel_identities.c.id)
)

_IDENTITIES_OF_MANY = (
    select(channel_identities)
    .where(channel_identities.c.contact_id.in_(bindparam("contact_ids", expanding=True)))
    .order_by(channel_identities.c.id)
)


def _to_contact(row: Row[Any]) -> Contact:
    return Contact(
        id=row.id,
        display_name=row.display_name,
        language=row.language,
        timezone=row.timezone,
        opted_out=row.opted_out,
        blocked=row.blocked,
        start_payload=row.start_payload,
        attributes=dict(row.attributes),
        created_at=row.created_at,
        external_id=row.external_id,
        phone=row.phone,
        email=row.email,
    )


def _to_identity(row: Row[Any]) -> ChannelIdentity:
    return ChannelIdentity(
        id=row.id,
        contact_id=row.contact_id,
        channel=Channel(row.channel),
        external_id=row.external_id,
        address=row.address,
        username=row.username,
        blocked=row.blocked,
    )


def _merged_profile(source: Contact, target: Contact) -> Contact:
    """The target's profile, completed from the source.

    An opt-out on either side survives the merge: losing it would message someone who said stop.
    The shop's identifiers survive too: the target's where it has them, else the source's.
    """
    return Contact(
        id=target.id,
        display_name=target.display_name,
        language=target.language or source.language,
        timezone=target.timezone or source.timezone,
        opted_out=target.opted_out or source.opted_out,
        blocked=target.blocked,
        start_payload=target.start_payload or source.start_payload,
        attributes={**source.attributes, **target.attributes},
        created_at=target.created_at,
        external_id=target.external_id or source.external_id,
        phone=target.phone or source.phone,
        email=target.email or source.email,
    )


class SqlContactRepository(SqlRepository):
    def __init__(self, conn: Connection, clock: Clock) -> None:
        super().__init__(conn)
        self._clock = clock

    async def get(self, contact_id: int) -> Contact | None:
        row = (await self._conn.execute(_GET, {"contact_id": contact_id})).first()
        return _to_contact(row) if row is not None else None

    async def get_many(self, contact_ids: Iterable[int]) -> dict[int, Contact]:
        """The contacts that exist among `contact_ids`, by id (missing ids are left out)."""
        wanted = sorted(set(contact_ids))
        found: dict[int, Contact] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            result = await self._conn.execute(_GET_MANY, {"contact_ids": chunk})
            found.update((row.id, _to_contact(row)) for row in result)
        return found

    async def create(self, display_name: str, language: str | None) -> Contact:
        now = self._clock.now()
        params: dict[str, Any] = {
            "display_name": display_name,
            "language": language,
            "attributes": {},
            "created_at": now,
            "updated_at": now,
        }
        return _to_contact((await self._conn.execute(_CREATE, params)).one())

    async def update(self, contact: Contact) -> None:
        params: dict[str, Any] = {
            "contact_id": contact.id,
            "display_name": contact.display_name,
            "language": contact.language,
            "timezone": contact.timezone,
            "opted_out": contact.opted_out,
            "blocked": contact.blocked,
            "start_payload": contact.start_payload,
            "attributes": dict(contact.attributes),
            "updated_at": self._clock.now(),
            "external_id": contact.external_id,
            "phone": contact.phone,
            "email": contact.email,
        }
        await self._conn.execute(_UPDATE, params)

    async def find_by_external_id(self, external_id: str) -> Contact | None:
        return await self._find_by("external_id", external_id)

    async def find_by_phone(self, phone: str) -> Contact | None:
        return await self._find_by("phone", phone)

    async def find_by_email(self, email: str) -> Contact | None:
        return await self._find_by("email", email)

    async def _find_by(self, name: str, value: str) -> Contact | None:
        row = (await self._conn.execute(_FIND_BY[name], {f"wanted_{name}": value})).first()
        return _to_contact(row) if row is not None else None

    async def create_identified(
        self,
        display_name: str,
        external_id: str | None,
        phone: str | None,
        email: str | None,
    ) -> Contact | None:
        now = self._clock.now()
        params: dict[str, Any] = {
            "display_name": display_name,
            "attributes": {},
            "created_at": now,
            "updated_at": now,
            "external_id": external_id,
            "phone": phone,
            "email": email,
        }
        row = (await self._conn.execute(_CREATE_IDENTIFIED.of(self._conn), params)).first()
        return _to_contact(row) if row is not None else None

    async def merge_into(self, source_id: int, target_id: int) -> None:
        if source_id == target_id:
            raise ValueError(f"cannot merge contact {source_id} into itself")
        source, target = await self.get(source_id), await self.get(target_id)
        if source is None or target is None:
            missing = source_id if source is None else target_id
            raise ValueError(f"cannot merge: contact {missing} does not exist")
        await self._conn.execute(_CLEAR_IDENTIFIERS, {"contact_id": source_id})
        await self.update(_merged_profile(source, target))
        for stmt in _MOVE_OWNED:
            await self._conn.execute(stmt, {"source_id": source_id, "target_id": target_id})
        await self._conn.execute(_DELETE, {"contact_id": source_id})


class SqlIdentityRepository(SqlRepository):
    async def find(self, channel: Channel, external_id: str) -> ChannelIdentity | None:
        params = {"channel": channel.value, "external_id": external_id}
        row = (await self._conn.execute(_FIND_IDENTITY, params)).first()
        return _to_identity(row) if row is not None else None

    async def add(
        self,
        contact_id: int,
        channel: Channel,
        external_id: str,
        address: str,
        username: str | None,
    ) -> ChannelIdentity:
        params: dict[str, Any] = {
            "contact_id": contact_id,
            "channel": channel.value,
            "external_id": external_id,
            "address": address,
            "username": username,
        }
        return _to_identity((await self._conn.execute(_ADD_IDENTITY, params)).one())

    async def update(self, identity: ChannelIdentity) -> None:
        params: dict[str, Any] = {
            "identity_id": identity.id,
            "contact_id": identity.contact_id,
            "address": identity.address,
            "username": identity.username,
            "blocked": identity.blocked,
        }
        await self._conn.execute(_UPDATE_IDENTITY, params)

    async def for_contact(self, contact_id: int) -> list[ChannelIdentity]:
        result = await self._conn.execute(_IDENTITIES_OF, {"contact_id": contact_id})
        return [_to_identity(row) for row in result]

    async def for_contacts(self, contact_ids: Iterable[int]) -> dict[int, list[ChannelIdentity]]:
        """`for_contact` of many contacts at once (a contact without identities is left out)."""
        wanted = sorted(set(contact_ids))
        found: dict[int, list[ChannelIdentity]] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            for row in await self._conn.execute(_IDENTITIES_OF_MANY, {"contact_ids": chunk}):
                found.setdefault(row.contact_id, []).append(_to_identity(row))
        return found
