"""Finding the contact an event names, creating one from the shop's identifiers if needed.

A shop may send `cart_abandoned` before the customer ever chats: an unknown external id,
phone or email makes a new contact holding them, which a later Telegram link binds to the
person. A Nudge contact id or a Telegram user id cannot be made up, so an unknown one is an
error. Identifiers never move between two existing contacts here: that would be a merge, and
only the customer opening a link proves two contacts are one person.
"""

from __future__ import annotations

from bot.conversation.shop_link import SHOP_CONTACT_NAME
from bot.domain.events import ContactRef
from bot.domain.model import Channel, Contact
from bot.domain.ports import ContactRepository, UnitOfWork
from bot.events.parsing import EventError
from bot.privacy.forgotten import is_forgotten


async def resolve_contact(uow: UnitOfWork, ref: ContactRef) -> tuple[Contact, bool]:
    """The contact `ref` names and whether it was created now; EventError(422) when it names
    a Nudge contact or Telegram user we do not know."""
    contacts = uow.contacts
    found = await _find(uow, contacts, ref)
    if found is not None:
        await _complete(contacts, found, ref)
        return found, False
    name = ref.name or SHOP_CONTACT_NAME
    created = await contacts.create_identified(name, ref.external_id, ref.phone, ref.email)
    if created is not None:
        return created, True
    # Another request created a contact with one of these identifiers since we looked.
    found = await _find(uow, contacts, ref)
    if found is None:
        raise EventError(409, "the contact changed while we looked it up: send the event again")
    return found, False


async def _find(uow: UnitOfWork, contacts: ContactRepository, ref: ContactRef) -> Contact | None:
    if ref.id is not None:
        contact = await contacts.get(ref.id)
        if contact is None:
            raise EventError(422, f"no contact with id {ref.id}", "contact.id")
        if is_forgotten(contact):  # giving it identifiers again would undo the forget
            message = f"contact {ref.id} was forgotten at the person's request"
            raise EventError(422, message, "contact.id")
        return contact
    if ref.telegram_user_id is not None:
        return await _by_telegram_user(uow, contacts, ref.telegram_user_id)
    lookups = (
        (ref.external_id, contacts.find_by_external_id),
        (ref.phone, contacts.find_by_phone),
        (ref.email, contacts.find_by_email),
    )
    for value, find in lookups:
        if value is not None and (contact := await find(value)) is not None:
            return contact
    return None


async def _by_telegram_user(uow: UnitOfWork, contacts: ContactRepository, user_id: int) -> Contact:
    identity = await uow.identities.find(Channel.TELEGRAM, str(user_id))
    contact = await contacts.get(identity.contact_id) if identity is not None else None
    if contact is None:
        raise EventError(
            422,
            f"no contact with Telegram user id {user_id}: they have not written to the bot yet",
            "contact.telegram_user_id",
        )
    return contact


async def _complete(contacts: ContactRepository, contact: Contact, ref: ContactRef) -> None:
    """Give `contact` the identifiers `ref` adds, unless another contact holds them.

    The shop's external id never changes once set (a different one is a mistake worth an
    error); a phone or an email does change, and the newest one wins.
    """
    if ref.external_id and contact.external_id and ref.external_id != contact.external_id:
        message = f"contact {contact.id} has the external id {contact.external_id!r}"
        raise EventError(422, message, "contact.external_id")
    changed = False
    for name, value, find in (
        ("external_id", ref.external_id, contacts.find_by_external_id),
        ("phone", ref.phone, contacts.find_by_phone),
        ("email", ref.email, contacts.find_by_email),
    ):
        if value is None or getattr(contact, name) == value:
            continue
        holder = await find(value)
        if holder is None:
            setattr(contact, name, value)
            changed = True
    if changed:
        await contacts.update(contact)
