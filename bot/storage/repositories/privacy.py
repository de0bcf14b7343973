"""The queries behind `nudge contacts export` and `nudge contacts forget` (`bot.privacy`).

What happens to each table is decided in `privacy_map.TABLE_PRIVACY`; this module does it.
Rows stay where reports count them (messages per day, hand-off times, survey scores), with
every column that could name the person or repeat their words emptied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter

from bot.storage.repositories._base import SqlRepository, binds
from bot.storage.repositories.privacy_map import EVENT_DATA_KEPT, FUNNEL_DETAIL_KEPT
from bot.storage.repositories.privacy_rows import (
    PersonKeys,
    inbound_rows_of,
    rewritten_keys,
    settings_keys_of,
)
from bot.storage.survey_tables import survey_responses
from bot.storage.tables import (
    api_events,
    channel_identities,
    contacts,
    conversation_events,
    conversations,
    coupon_codes,
    enrollments,
    funnel_log,
    handoffs,
    held_replies,
    inbound_updates,
    kb_interactions,
    messages,
    outbox,
    privacy_audit,
    settings,
)

FORGOTTEN_NAME = "Forgotten contact"
FORGOTTEN_PAYLOAD = {"forgotten": True}
FORGOTTEN_REASON = "contact forgotten"

# Tables with a contact_id column, in the order an export lists them.
EXPORTED_BY_CONTACT: tuple[Table, ...] = (
    channel_identities,
    conversations,
    messages,
    outbox,
    enrollments,
    funnel_log,
    survey_responses,
    kb_interactions,
    api_events,
    handoffs,
    coupon_codes,
    privacy_audit,
)
EXPORTED_BY_CONVERSATION: tuple[Table, ...] = (conversation_events, held_replies)

_CONTACT: BindParameter[Any] = bindparam("of_contact")
_CONVERSATIONS_OF = select(conversations.c.id).where(conversations.c.contact_id == _CONTACT)
_ROWS_BY_CONTACT = {
    table.name: select(table).where(table.c.contact_id == _CONTACT).order_by(table.c.id)
    for table in EXPORTED_BY_CONTACT
}
_ROWS_BY_CONVERSATION = {
    table.name: select(table)
    .where(table.c.conversation_id.in_(_CONVERSATIONS_OF.scalar_subquery()))
    .order_by(table.c.id)
    for table in EXPORTED_BY_CONVERSATION
}
_INBOUND_ROWS = select(inbound_updates).where(
    inbound_updates.c.id.in_(bindparam("row_ids", expanding=True))
)
_CONTACT_ROW = select(contacts).where(contacts.c.id == _CONTACT)
_IDENTITY_KEYS = select(
    channel_identities.c.channel, channel_identities.c.external_id, channel_identities.c.address
).where(channel_identities.c.contact_id == _CONTACT)
_OUTBOX_KEYS = select(outbox.c.id, outbox.c.key).where(outbox.c.contact_id == _CONTACT)
_AUDIT = privacy_audit.insert().values(binds(privacy_audit, "action", "contact_id", "actor", "at"))

# Each statement with the parameters it takes besides `of_contact`: only those are passed,
# since SQLAlchemy would SET any other parameter named like a column of the table (see `_base`).
_ERASE: tuple[tuple[Executable, tuple[str, ...]], ...] = (
    (
        contacts.update()
        .where(contacts.c.id == _CONTACT)
        .values(binds(contacts, "display_name", "attributes", "updated_at"))
        .values(timezone=None, start_payload=None, external_id=None, phone=None, email=None)
        .values(opted_out=True, blocked=True),
        ("display_name", "attributes", "updated_at"),
    ),
    (channel_identities.delete().where(channel_identities.c.contact_id == _CONTACT), ()),
    (
        messages.update()
        .where(messages.c.contact_id == _CONTACT)
        .values(text="", channel_message_id=None),
        (),
    ),
    (
        outbox.update()
        .where(outbox.c.contact_id == _CONTACT)
        .values(binds(outbox, "buttons"))
        .values(text="", address="", channel_message_id=None),
        ("buttons",),
    ),
    (
        kb_interactions.update()
        .where(kb_interactions.c.contact_id == _CONTACT)
        .values(question=""),
        (),
    ),
    (
        handoffs.update()
        .where(handoffs.c.contact_id == _CONTACT)
        .values(desk_title=None, summary=None),
        (),
    ),
    (
        conversation_events.update()
        .where(conversation_events.c.conversation_id.in_(_CONVERSATIONS_OF.scalar_subquery()))
        .values(text=None),
        (),
    ),
    (
        held_replies.update()
        .where(held_replies.c.conversation_id.in_(_CONVERSATIONS_OF.scalar_subquery()))
        .values(text="", final_text=None),
        (),
    ),
    (
        api_events.update()
        .where(api_events.c.contact_id == _CONTACT)
        .values(binds(api_events, "data")),
        ("data",),
    ),
    (
        enrollments.update()
        .where(enrollments.c.contact_id == _CONTACT)
        .values(binds(enrollments, "event", "variables")),
        ("event", "variables"),
    ),
    (
        funnel_log.update()
        .where(funnel_log.c.contact_id == _CONTACT, funnel_log.c.kind.not_in(FUNNEL_DETAIL_KEPT))
        .values(detail=None),
        (),
    ),
    (
        survey_responses.update()
        .where(survey_responses.c.contact_id == _CONTACT)
        .values(comment=None, awaiting_comment=False, follow_up_pending=False),
        (),
    ),
)
_EVENT_DATA_OF = select(conversation_events.c.id, conversation_events.c.data).where(
    conversation_events.c.conversation_id.in_(_CONVERSATIONS_OF.scalar_subquery())
)
_SET_EVENT_DATA = (
    conversation_events.update()
    .where(conversation_events.c.id == bindparam("row_id"))
    .values(binds(conversation_events, "data"))
)
# Work that was waiting for the person ends with the reason, so nothing acts on them later.
_CLOSE_OPEN_WORK: tuple[Executable, ...] = (
    api_events.update()
    .where(api_events.c.contact_id == _CONTACT, api_events.c.status == "pending")
    .values(binds(api_events, "processed_at"))
    .values(status="failed", error=FORGOTTEN_REASON),
    survey_responses.update()
    .where(survey_responses.c.contact_id == _CONTACT, survey_responses.c.status == "sent")
    .values(status="expired", reason=FORGOTTEN_REASON),
)
_ERASE_INBOUND = (
    inbound_updates.update()
    .where(inbound_updates.c.id.in_(bindparam("row_ids", expanding=True)))
    .values(binds(inbound_updates, "payload"))
    .values(error=None, conversation_key=None)  # "telegram:<chat id>", "webchat:<token>"
)
_FAIL_PENDING_INBOUND = (
    inbound_updates.update()
    .where(
        inbound_updates.c.id.in_(bindparam("row_ids", expanding=True)),
        inbound_updates.c.status == "pending",
    )
    .values(binds(inbound_updates, "processed_at"))
    .values(status="failed", error=FORGOTTEN_REASON)
)
_REKEY_INBOUND = (
    inbound_updates.update()
    .where(inbound_updates.c.id == bindparam("row_id"))
    .values(binds(inbound_updates, "external_key"))
)
_REKEY_OUTBOX = (
    outbox.update().where(outbox.c.id == bindparam("row_id")).values(binds(outbox, "key"))
)
_DELETE_SETTINGS = settings.delete().where(settings.c.key.in_(bindparam("keys", expanding=True)))


def _plain(value: Any) -> Any:
    """A column value as JSON: times in ISO 8601, the rest as stored."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _as_dict(row: Row[Any]) -> dict[str, Any]:
    return {name: _plain(value) for name, value in row._mapping.items()}


class SqlPrivacyRepository(SqlRepository):
    """Everything stored about one contact: read it all, erase it all, audit both."""

    async def person_keys(self, contact_id: int) -> PersonKeys:
        rows = await self._conn.execute(_IDENTITY_KEYS, {"of_contact": contact_id})
        return PersonKeys.of((row.channel, row.external_id, row.address) for row in rows)

    async def export(self, contact_id: int) -> dict[str, Any]:
        """{"contact": {...}, table name: [rows...]} for every table holding the person."""
        params = {"of_contact": contact_id}
        contact = (await self._conn.execute(_CONTACT_ROW, params)).one_or_none()
        document: dict[str, Any] = {"contact": _as_dict(contact) if contact else None}
        for name, statement in (*_ROWS_BY_CONTACT.items(), *_ROWS_BY_CONVERSATION.items()):
            document[name] = [_as_dict(row) for row in await self._conn.execute(statement, params)]
        keys = await self.person_keys(contact_id)
        inbound_ids = [row_id for row_id, _ in await inbound_rows_of(self._conn, keys)]
        rows = await self._conn.execute(_INBOUND_ROWS, {"row_ids": inbound_ids})
        document["inbound_updates"] = [_as_dict(row) for row in rows]
        return document

    async def erase(
        self, contact_id: int, at: datetime, attributes: dict[str, Any]
    ) -> dict[str, int]:
        """Close the person's waiting work and empty every personal column (see the map);
        returns how many rows each step touched. The caller commits."""
        keys = await self.person_keys(contact_id)  # before the identities are deleted
        inbound = await inbound_rows_of(self._conn, keys)
        settings_keys = await settings_keys_of(self._conn, contact_id, keys)
        counts = {"closed": 0}
        for statement in _CLOSE_OPEN_WORK:
            params = {"of_contact": contact_id, "processed_at": at}
            counts["closed"] += (await self._conn.execute(statement, params)).rowcount
        await self._rekey_outbox(contact_id, keys.webchat)
        values = {
            "display_name": FORGOTTEN_NAME, "attributes": attributes, "updated_at": at,
            "buttons": [], "data": {}, "event": {}, "variables": {},
        }  # fmt: skip
        for statement, names in _ERASE:
            params = {"of_contact": contact_id, **{name: values[name] for name in names}}
            await self._conn.execute(statement, params)
        await self._scrub_event_data(contact_id)
        counts["inbound_updates"] = await self._erase_inbound(inbound, at)
        if settings_keys:
            result = await self._conn.execute(_DELETE_SETTINGS, {"keys": settings_keys})
            counts["settings"] = result.rowcount
        return counts

    async def _scrub_event_data(self, contact_id: int) -> None:
        """Keep only the event data reports read (team, reason, score, ...): a hand-off carries
        the customer's tags, a low-score alert their comment, and what comes next is unknown."""
        rows = await self._conn.execute(_EVENT_DATA_OF, {"of_contact": contact_id})
        for row in list(rows):
            kept = {key: value for key, value in row.data.items() if key in EVENT_DATA_KEPT}
            if kept != row.data:
                await self._conn.execute(_SET_EVENT_DATA, {"row_id": row.id, "data": kept})

    async def _rekey_outbox(self, contact_id: int, tokens: frozenset[str]) -> None:
        if not tokens:
            return
        result = await self._conn.execute(_OUTBOX_KEYS, {"of_contact": contact_id})
        for row_id in rewritten_keys([(row.id, row.key) for row in result], tokens):
            params = {"row_id": row_id, "key": f"forgotten:{row_id}"}
            await self._conn.execute(_REKEY_OUTBOX, params)

    async def _erase_inbound(self, rows: Sequence[tuple[int, str]], at: datetime) -> int:
        if not rows:
            return 0
        ids = [row_id for row_id, _ in rows]
        await self._conn.execute(_FAIL_PENDING_INBOUND, {"row_ids": ids, "processed_at": at})
        await self._conn.execute(_ERASE_INBOUND, {"row_ids": ids, "payload": FORGOTTEN_PAYLOAD})
        # A web chat update's key holds the visitor token; a Telegram update id names nobody
        # and is kept, so a late redelivery of that update is still recognised and skipped.
        for row_id, channel in rows:
            if channel == "webchat":
                params = {"row_id": row_id, "external_key": f"forgotten:{row_id}"}
                await self._conn.execute(_REKEY_INBOUND, params)
        return len(rows)

    async def record(self, action: str, contact_id: int, actor: str, at: datetime) -> None:
        """One audit line: who did what kind of request about which contact id, and when."""
        params = {"action": action, "contact_id": contact_id, "actor": actor, "at": at}
        await self._conn.execute(_AUDIT, params)
