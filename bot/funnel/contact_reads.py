"""What the steps of a batch read about their contacts, loaded once per batch.

A due step reads its contact, the contact's channel identities, its open conversation and (with
a frequency cap) its recent funnel sends. Read one statement at a time that was about five
statements per step: most of a step's cost on SQLite and a round trip each on PostgreSQL.
`preload` reads them for a whole batch with one `IN (...)` query per kind; whatever was not
preloaded (a hook running one enrollment) is read on first use, one contact at a time, the same
way. Everything is read inside the batch's transaction, so it is as fresh as the single reads
were; what a step changes (tags, a new conversation, a hand-off) is kept in step here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.domain.model import ChannelIdentity, Contact, Conversation
from bot.domain.ports import UnitOfWork


class ContactReads:
    """A cache over one unit of work's contact reads (one per batch, never shared)."""

    def __init__(self, uow: UnitOfWork, cap_period: timedelta | None) -> None:
        self._uow = uow
        self._cap_period = cap_period  # None: no frequency cap, no sends to read
        self._contacts: dict[int, Contact | None] = {}
        self._identities: dict[int, list[ChannelIdentity]] = {}
        self._conversations: dict[int, Conversation | None] = {}
        self._sent: dict[int, list[datetime]] = {}
        self._sent_since: datetime | None = None  # the window the preloaded sends cover

    async def preload(self, contact_ids: Iterable[int], now: datetime) -> None:
        """Read everything the steps of a batch due at `now` may need, one query per kind."""
        ids = sorted({i for i in contact_ids if i not in self._contacts})
        if not ids:
            return
        uow = self._uow
        found = await uow.contacts.get_many(ids)
        identities = await uow.identities.for_contacts(ids)
        conversations = await uow.conversations.open_for_contacts(ids)
        for contact_id in ids:
            self._contacts[contact_id] = found.get(contact_id)
            self._identities[contact_id] = identities.get(contact_id, [])
            self._conversations[contact_id] = conversations.get(contact_id)
        since = now - self._cap_period if self._cap_period is not None else None
        if since is not None and self._sent_since in (None, since):
            sent = await uow.funnel_log.sent_times_since_many(ids, since)
            self._sent_since = since
            for contact_id in ids:
                self._sent[contact_id] = sent.get(contact_id, [])

    async def contact(self, contact_id: int) -> Contact | None:
        if contact_id not in self._contacts:
            self._contacts[contact_id] = await self._uow.contacts.get(contact_id)
        return self._contacts[contact_id]

    def known_contact(self, contact_id: int) -> Contact | None:
        """The contact if it was read already (no statement)."""
        return self._contacts.get(contact_id)

    async def identities(self, contact_id: int) -> list[ChannelIdentity]:
        if contact_id not in self._identities:
            self._identities[contact_id] = await self._uow.identities.for_contact(contact_id)
        return self._identities[contact_id]

    async def open_conversation(self, contact_id: int) -> Conversation | None:
        if contact_id not in self._conversations:
            found = await self._uow.conversations.open_for_contact(contact_id)
            self._conversations[contact_id] = found
        return self._conversations[contact_id]

    def conversation_opened(self, contact_id: int, conversation: Conversation) -> None:
        self._conversations[contact_id] = conversation

    def conversation_changed(self, contact_id: int) -> None:
        """Something else changed the contact's conversation (a hand-off): read it again."""
        self._conversations.pop(contact_id, None)

    async def sent_times(self, contact_id: int, since: datetime) -> list[datetime]:
        """When funnels last sent to the contact (stored sends), from `since` on."""
        preloaded = self._sent.get(contact_id)
        if preloaded is not None and self._sent_since is not None and since >= self._sent_since:
            return [at for at in preloaded if at >= since]
        found: list[datetime] = await self._uow.funnel_log.sent_times_since(contact_id, since)
        return found
