"""What the customer is told as a hand-off moves: queued, after hours, joined, closed, back.

Every notice is an outbox row with a key derived from the hand-off (and the moment it is
about), so handling the same update twice never tells the customer twice.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.delivery.outbox import Outbox
from bot.domain.handoff import Handoff
from bot.domain.model import Contact, OutboundDraft, OutboundKind
from bot.domain.ports import UnitOfWork
from bot.rendering import Renderer


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a conversation's customer is reached now: the channel they last wrote on."""

    contact: Contact
    channel_name: str
    address: str


class Notices:
    def __init__(self, renderer: Renderer, outbox: Outbox) -> None:
        self._renderer = renderer
        self._outbox = outbox

    async def tell(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        template: str,
        key: str,
        at: datetime,
        **extra: Any,
    ) -> bool:
        """Render `template` in the hand-off's language and queue it; False if unreachable."""
        contact = await uow.contacts.get(handoff.contact_id)
        if contact is None:
            return False
        context = {"name": contact.display_name, "contact": contact, **extra}
        text = self._renderer.render(template, handoff.language, context)
        return await self.send_html(uow, handoff, contact, text, key, at, OutboundKind.SYSTEM)

    async def send_html(
        self,
        uow: UnitOfWork,
        handoff: Handoff,
        contact: Contact,
        text: str,
        key: str,
        at: datetime,
        kind: OutboundKind,
    ) -> bool:
        """Queue `text` (already safe HTML) to the customer on the conversation's channel."""
        conversation = await uow.conversations.get(handoff.conversation_id)
        identities = await uow.identities.for_contact(contact.id)
        if conversation is None or not identities:
            return False
        # The channel the customer last wrote on, else any channel we can reach them on.
        same = [i for i in identities if i.channel is conversation.channel and not i.blocked]
        identity = (same or [i for i in identities if not i.blocked] or identities)[0]
        draft = OutboundDraft(
            key=key,
            contact_id=contact.id,
            channel=identity.channel,
            address=identity.address,
            text=text,
            kind=kind,
            conversation_id=handoff.conversation_id,
        )
        await self._outbox.enqueue(uow, draft, at)
        return True


def plain_to_html(text: str) -> str:
    """An agent types plain text: show it as typed, never as markup."""
    return html.escape(text, quote=False)


def opening_context(opens_at: datetime, timezone: str, now: datetime) -> dict[str, Any]:
    """Template variables for "a person will answer at …", in the team's time zone.

    `opens_day` is 0 for today and 1 for tomorrow (in that zone), otherwise `opens_weekday`
    (0 = Monday) lets each language's template name the day its own way.
    """
    zone = ZoneInfo(timezone)
    local, local_now = opens_at.astimezone(zone), now.astimezone(zone)
    return {
        "opens_time": local.strftime("%H:%M"),
        "opens_date": local.date().isoformat(),
        "opens_day": (local.date() - local_now.date()).days,
        "opens_weekday": local.weekday(),
        "timezone": timezone,
    }
