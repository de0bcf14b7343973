"""Finding (or creating) the contact behind an inbound event, and linking channels."""

from __future__ import annotations

from bot.domain.inbound import Sender
from bot.domain.model import Channel, ChannelIdentity, Contact
from bot.domain.ports import UnitOfWork

LINK_KEY_PREFIX = "link:"
WEB_LINK_PAYLOAD_PREFIX = "w_"


def language_from_code(code: str | None) -> str | None:
    """'ru-RU' -> 'ru'; None stays None."""
    if not code:
        return None
    return code.split("-")[0].split("_")[0].lower() or None


async def resolve_contact(uow: UnitOfWork, sender: Sender) -> tuple[Contact, ChannelIdentity]:
    """The contact and identity for this sender, created on first contact, refreshed after."""
    identity = await uow.identities.find(sender.channel, sender.external_id)
    if identity is None:
        contact = await uow.contacts.create(
            sender.display_name, language_from_code(sender.language_code)
        )
        identity = await uow.identities.add(
            contact.id, sender.channel, sender.external_id, sender.address, sender.username
        )
        return contact, identity
    found = await uow.contacts.get(identity.contact_id)
    if found is None:  # an identity always belongs to a contact (foreign key)
        raise LookupError(f"identity {identity.id} points to missing contact")
    await _refresh(uow, found, identity, sender)
    return found, identity


async def _refresh(
    uow: UnitOfWork, contact: Contact, identity: ChannelIdentity, sender: Sender
) -> None:
    if identity.address != sender.address or identity.username != sender.username:
        identity.address = sender.address
        identity.username = sender.username
        await uow.identities.update(identity)
    language = language_from_code(sender.language_code)
    # The web widget does not know the visitor's name; never overwrite a real name with it.
    better_name = sender.channel is not Channel.WEBCHAT and sender.display_name
    if (contact.language is None and language) or (
        better_name and contact.display_name != sender.display_name
    ):
        contact.language = contact.language or language
        if better_name:
            contact.display_name = sender.display_name
        await uow.contacts.update(contact)


async def link_web_visitor(uow: UnitOfWork, contact: Contact, code: str) -> Contact | None:
    """Bind the web chat visitor behind a one-time link code to `contact`.

    The contact whose history is older (the web visitor's, when they chatted there first) is kept,
    and the other is merged into it, so the whole history follows the person. Returns the
    resulting contact, or None when the code is unknown or was used already.
    """
    key = f"{LINK_KEY_PREFIX}{code}"
    visitor_token = await uow.settings.get(key)
    if visitor_token is None:
        return None
    await uow.settings.delete(key)
    web_identity = await uow.identities.find(Channel.WEBCHAT, visitor_token)
    if web_identity is None:
        await uow.identities.add(contact.id, Channel.WEBCHAT, visitor_token, visitor_token, None)
        return contact
    if web_identity.contact_id == contact.id:
        return contact
    await uow.contacts.merge_into(contact.id, web_identity.contact_id)
    merged = await uow.contacts.get(web_identity.contact_id)
    if merged is None:
        raise LookupError(f"contact {web_identity.contact_id} vanished during a merge")
    merged.display_name = contact.display_name or merged.display_name
    merged.language = contact.language or merged.language
    await uow.contacts.update(merged)
    return merged
