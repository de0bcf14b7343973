"""Who may enter a funnel: not already inside, the re-entry policy, the audience.

One code path for one contact and for many: `admit` reads what it needs for all the candidates
at once (their latest enrollment in the funnel, whether one is open, and the contacts when the
funnel has an audience), one query per kind, and decides for each the way a single enrolment
always has.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.domain.funnel import Enrollment
from bot.domain.model import Contact
from bot.funnel.conditions import ConditionError
from bot.funnel.context import funnel_context
from bot.funnel.db_ports import contact_view
from bot.funnel.engine import new_enrollment
from bot.funnel.model import Funnel

log = logging.getLogger(__name__)

Entry = tuple[int, Mapping[str, Any]]
"""A contact id and the event data it enters with."""


async def admit(
    uow: Any, funnel: Funnel, entries: Iterable[Entry], now: datetime
) -> list[Enrollment]:
    """New (unsaved) enrollments for the entries allowed into `funnel` now, in entry order.

    A contact listed twice is considered once, with its first event: after entering it would be
    inside the funnel, and a second trigger is ignored then."""
    firsts: dict[int, Mapping[str, Any]] = {}
    for contact_id, event in entries:
        firsts.setdefault(contact_id, event)
    if not firsts:
        return []
    states = await uow.enrollments.entry_states(firsts, funnel.id)
    allowed = []
    for contact_id, event in firsts.items():
        last, inside = states.get(contact_id, (None, False))
        if reentry_allows(funnel, last, inside, now):
            allowed.append((contact_id, event))
    if funnel.audience is None:
        return [new_enrollment(funnel, contact_id, event, now) for contact_id, event in allowed]
    contacts = await uow.contacts.get_many(contact_id for contact_id, _ in allowed)
    admitted = []
    for contact_id, event in allowed:
        enrollment = new_enrollment(funnel, contact_id, event, now)
        if audience_admits(funnel, contacts.get(contact_id), enrollment):
            admitted.append(enrollment)
    return admitted


def reentry_allows(funnel: Funnel, last: Enrollment | None, inside: bool, now: datetime) -> bool:
    """Whether a contact whose latest enrollment in `funnel` is `last` may enter it again."""
    if inside:
        return False  # already inside: a second trigger is ignored
    if last is None:
        return True
    policy = funnel.reentry
    if policy.kind == "once":
        return False
    recent = policy.period is not None and now - last.entered_at < policy.period
    return not (policy.kind == "once_per" and recent)


def audience_admits(funnel: Funnel, contact: Contact | None, enrollment: Enrollment) -> bool:
    """Whether `contact` is in the funnel's audience (a contact that no longer exists is not;
    a condition that fails on this contact's data keeps it out, with a warning)."""
    if funnel.audience is None:
        return True
    if contact is None:
        return False
    try:
        return funnel.audience.evaluate(funnel_context(contact_view(contact), funnel, enrollment))
    except ConditionError as exc:
        log.warning("funnel %s: audience of contact %s: %s", funnel.id, contact.id, exc)
        return False
