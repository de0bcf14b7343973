"""Contacts and their channel identities."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.clock import Clock
from bot.domain.model import Channel, ChannelIdentity, Contact
from bot.storage.repositories._base import SqlRepository
from bot.storage.tables import channel_identities, contacts, conversations, messages, outbox

# Keeps `IN (...)` well below SQLite's bound-parameter limit however many ids are asked for.
_IN_CHUNK = 500

# Every table whose rows belong to a contact; merge_into moves them all.
_OWNED_TABLES = (channel_identities, conversations, messages, outbox)


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
    )


class SqlContactRepository(SqlRepository):
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        super().__init__(conn)
        self._clock = clock

    async def get(self, contact_id: int) -> Contact | None:
        result = await self._conn.execute(select(contacts).where(contacts.c.id == contact_id))
        row = result.first()
        return _to_contact(row) if row is not None else None

    async def get_many(self, contact_ids: Iterable[int]) -> dict[int, Contact]:
        """The contacts that exist among `contact_ids`, by id (missing ids are left out)."""
        wanted = sorted(set(contact_ids))
        found: dict[int, Contact] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            result = await self._conn.execute(select(contacts).where(contacts.c.id.in_(chunk)))
            found.update((row.id, _to_contact(row)) for row in result)
        return found

    async def create(self, display_name: str, language: str | None) -> Contact:
        now = self._clock.now()
        stmt = (
            insert(contacts)
            .values(
                display_name=display_name,
                language=language,
                opted_out=False,
                blocked=False,
                attributes={},
                created_at=now,
                updated_at=now,
            )
            .returning(contacts)
        )
        return _to_contact((await self._conn.execute(stmt)).one())

    async def update(self, contact: Contact) -> None:
        stmt = (
            update(contacts)
            .where(contacts.c.id == contact.id)
            .values(
                display_name=contact.display_name,
                language=contact.language,
                timezone=contact.timezone,
                opted_out=contact.opted_out,
                blocked=contact.blocked,
                start_payload=contact.start_payload,
                attributes=dict(contact.attributes),
                updated_at=self._clock.now(),
            )
        )
        await self._conn.execute(stmt)

    async def merge_into(self, source_id: int, target_id: int) -> None:
        if source_id == target_id:
            raise ValueError(f"cannot merge contact {source_id} into itself")
        source, target = await self.get(source_id), await self.get(target_id)
        if source is None or target is None:
            missing = source_id if source is None else target_id
            raise ValueError(f"cannot merge: contact {missing} does not exist")
        await self.update(_merged_profile(source, target))
        for table in _OWNED_TABLES:
            await self._conn.execute(
                update(table).where(table.c.contact_id == source_id).values(contact_id=target_id)
            )
        await self._conn.execute(delete(contacts).where(contacts.c.id == source_id))


class SqlIdentityRepository(SqlRepository):
    async def find(self, channel: Channel, external_id: str) -> ChannelIdentity | None:
        stmt = select(channel_identities).where(
            channel_identities.c.channel == channel.value,
            channel_identities.c.external_id == external_id,
        )
        row = (await self._conn.execute(stmt)).first()
        return _to_identity(row) if row is not None else None

    async def add(
        self,
        contact_id: int,
        channel: Channel,
        external_id: str,
        address: str,
        username: str | None,
    ) -> ChannelIdentity:
        stmt = (
            insert(channel_identities)
            .values(
                contact_id=contact_id,
                channel=channel.value,
                external_id=external_id,
                address=address,
                username=username,
                blocked=False,
            )
            .returning(channel_identities)
        )
        return _to_identity((await self._conn.execute(stmt)).one())

    async def update(self, identity: ChannelIdentity) -> None:
        stmt = (
            update(channel_identities)
            .where(channel_identities.c.id == identity.id)
            .values(
                contact_id=identity.contact_id,
                address=identity.address,
                username=identity.username,
                blocked=identity.blocked,
            )
        )
        await self._conn.execute(stmt)

    async def for_contact(self, contact_id: int) -> list[ChannelIdentity]:
        stmt = (
            select(channel_identities)
            .where(channel_identities.c.contact_id == contact_id)
            .order_by(channel_identities.c.id)
        )
        return [_to_identity(row) for row in await self._conn.execute(stmt)]
