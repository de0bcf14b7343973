"""Binding a shop's customer to the Telegram user who opens the shop's link.

The shop asks for a link for its customer (`POST /api/v1/contacts/link`); the link opens the
bot with `/start c_<code>`. The code is one-time and expires: a link forwarded to someone else
or found in a log much later binds nobody.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from bot.domain.model import Contact
from bot.domain.ports import UnitOfWork

SHOP_LINK_PAYLOAD_PREFIX = "c_"
SHOP_LINK_KEY = "shoplink:{code}"
DEFAULT_LINK_TTL = timedelta(days=7)
# The name of a contact made from a shop's identifiers alone (see bot.events.contacts): the
# Telegram name is better than it.
SHOP_CONTACT_NAME = "Shop customer"


async def issue_shop_link_code(
    uow: UnitOfWork, contact_id: int, now: datetime, ttl: timedelta = DEFAULT_LINK_TTL
) -> tuple[str, datetime]:
    """A fresh one-time code for `contact_id` and when it expires (stored, not committed)."""
    # 16 random bytes: unguessable, and "c_" + 22 characters fits Telegram's 64-byte payload.
    code = secrets.token_urlsafe(16)
    expires_at = now + ttl
    entry = {"contact_id": contact_id, "expires_at": expires_at.isoformat()}
    await uow.settings.put(SHOP_LINK_KEY.format(code=code), json.dumps(entry))
    return code, expires_at


async def bind_shop_contact(
    uow: UnitOfWork, contact: Contact, code: str, now: datetime
) -> Contact | None:
    """Merge `contact` (the Telegram user who opened the link) into the shop's contact behind
    `code`; returns the resulting contact, or None when the code is unknown, used or expired.

    The shop's contact is kept, so the id and identifiers the shop knows stay valid, and the
    Telegram contact's identities, conversations and messages move to it.
    """
    key = SHOP_LINK_KEY.format(code=code)
    raw = await uow.settings.get(key)
    if raw is None:
        return None
    await uow.settings.delete(key)  # one-time, also when it turns out expired
    entry = json.loads(raw)
    if datetime.fromisoformat(entry["expires_at"]) <= now:
        return None
    shop_contact_id = int(entry["contact_id"])
    if shop_contact_id == contact.id:
        return contact
    if await uow.contacts.get(shop_contact_id) is None:
        return None  # deleted since the link was issued
    await uow.contacts.merge_into(contact.id, shop_contact_id)
    merged = await uow.contacts.get(shop_contact_id)
    if merged is None:
        raise LookupError(f"contact {shop_contact_id} vanished during a merge")
    if merged.display_name == SHOP_CONTACT_NAME or not merged.display_name:
        merged.display_name = contact.display_name or merged.display_name
    merged.language = merged.language or contact.language
    await uow.contacts.update(merged)
    return merged
