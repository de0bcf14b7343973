"""How a forgotten contact is recognised: the anonymous row keeps one attribute, the moment."""

from __future__ import annotations

from bot.domain.model import Contact

FORGOTTEN_ATTRIBUTE = "forgotten_at"


def is_forgotten(contact: Contact) -> bool:
    return FORGOTTEN_ATTRIBUTE in contact.attributes
