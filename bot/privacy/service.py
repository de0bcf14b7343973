"""Export everything stored about a person, or forget them: one transaction each, audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.domain.clock import Clock
from bot.domain.funnel_ports import FunnelLogEntry, FunnelLogKind
from bot.domain.model import Channel, Contact
from bot.privacy.forgotten import FORGOTTEN_ATTRIBUTE
from bot.privacy.ports import PrivacyUnitOfWork
from bot.privacy.refs import PersonRef, RefKind

EXPORT_FORMAT = "nudge.contact-export/1"
FORGOTTEN_REASON = "contact forgotten"


class ContactNotFoundError(LookupError):
    """No contact answers to the reference (or it was forgotten and no longer has it)."""


@dataclass(frozen=True, slots=True)
class ForgetReport:
    contact_id: int
    suppressed_messages: int  # pending outbound messages, now suppressed
    ended_enrollments: int
    closed_work: int  # pending shop events and open surveys closed with the reason
    erased_updates: int  # raw inbound updates emptied
    deleted_settings: int  # link codes, web chat tokens, desk topic entries


class PrivacyService:
    def __init__(self, uow_factory: Callable[[], PrivacyUnitOfWork], clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def export(self, ref: PersonRef, actor: str) -> dict[str, Any]:
        """One JSON-ready document with everything stored about the person."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            contact = await _resolve(uow, ref)
            sections = await uow.privacy.export(contact.id)
            await uow.privacy.record("export", contact.id, actor, now)
            await uow.commit()
        tags = contact.attributes.get("tags", [])
        return {
            "format": EXPORT_FORMAT,
            "exported_at": now.isoformat(),
            "requested_as": str(ref),
            "tags": [str(tag) for tag in tags] if isinstance(tags, list) else [],
            **sections,
        }

    async def forget(self, ref: PersonRef, actor: str) -> ForgetReport:
        """Cancel the person's pending messages, end their enrollments, then erase their
        identity and content (see `docs/privacy.md`). All or nothing: one transaction."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            contact = await _resolve(uow, ref)
            suppressed = await uow.outbox.suppress_pending_for_contact(
                contact.id, FORGOTTEN_REASON, now, marketing_only=False
            )
            ended = await uow.enrollments.exit_open_for_contact(contact.id, FORGOTTEN_REASON, now)
            await uow.funnel_log.add_many(
                FunnelLogEntry.of(e, FunnelLogKind.EXITED, now, FORGOTTEN_REASON) for e in ended
            )
            marker = {FORGOTTEN_ATTRIBUTE: now.isoformat()}
            counts = await uow.privacy.erase(contact.id, now, marker)
            await uow.privacy.record("forget", contact.id, actor, now)
            await uow.commit()
        return ForgetReport(
            contact_id=contact.id,
            suppressed_messages=suppressed,
            ended_enrollments=len(ended),
            closed_work=counts.get("closed", 0),
            erased_updates=counts.get("inbound_updates", 0),
            deleted_settings=counts.get("settings", 0),
        )


async def _resolve(uow: PrivacyUnitOfWork, ref: PersonRef) -> Contact:
    contacts = uow.contacts
    found: Contact | None
    if ref.kind is RefKind.CONTACT:
        found = await contacts.get(int(ref.value))
    elif ref.kind is RefKind.TELEGRAM:
        identity = await uow.identities.find(Channel.TELEGRAM, ref.value)
        found = await contacts.get(identity.contact_id) if identity is not None else None
    elif ref.kind is RefKind.EMAIL:
        found = await contacts.find_by_email(ref.value)
    elif ref.kind is RefKind.PHONE:
        found = await contacts.find_by_phone(ref.value)
    else:
        found = await contacts.find_by_external_id(ref.value)
    if found is None:
        raise ContactNotFoundError(f"no contact is known as {ref}")
    return found
