"""What every table holds about a person, and what `nudge contacts forget` does to it.

Every table of the schema is listed here (a test fails when a new table is not): a table added
without deciding what happens to its personal data on a forget is a leak waiting to happen.
The same map drives `docs/privacy.md`'s table, so the promise and the code say the same thing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Handling(enum.StrEnum):
    """What a forget does to the table's rows of the person."""

    ANONYMISED = "anonymised"  # the row stays (ids, times, counts); personal columns emptied
    ERASED = "erased"  # the person's rows stay for reports; their text/payload columns emptied
    DELETED = "deleted"  # the person's rows are removed
    KEPT = "kept"  # holds no personal data (ids, states, times), kept as it is
    STAFF = "staff"  # about the team, not about customers: out of a customer's request


@dataclass(frozen=True, slots=True)
class TablePrivacy:
    handling: Handling
    what: str  # what is done, in a sentence for the docs


# The keys of `conversation_events.data` a forget keeps: agents, teams, reasons, scores and ids,
# which the reports and the desk read. Any other key is dropped (today: a hand-off's customer
# tags, a low-score alert's comment), so a key added later is erased until someone adds it here.
EVENT_DATA_KEPT = frozenset(
    {"reason", "team", "priority", "held_id", "author", "due_at", "agent", "via", "from", "to",
     "alert", "response_id", "survey", "kind", "score", "about_agent_id"}
)  # fmt: skip

# The funnel log kinds whose `detail` a forget keeps: reasons and names written by Nudge. Any
# other kind loses its detail (today: `replied`, which holds the start of the customer's reply).
FUNNEL_DETAIL_KEPT = (
    "entered", "sent", "notified", "delayed", "skipped", "waited", "button", "exited",
    "completed", "expired", "failed", "goal",
)  # fmt: skip

TABLE_PRIVACY: dict[str, TablePrivacy] = {
    "contacts": TablePrivacy(
        Handling.ANONYMISED,
        "name, time zone, start payload, attributes (incl. tags), external id, phone and email"
        " emptied; the row keeps its id, language and dates, opted out and blocked",
    ),
    "channel_identities": TablePrivacy(
        Handling.DELETED, "Telegram user and chat ids, usernames, web chat visitor tokens"
    ),
    "conversations": TablePrivacy(Handling.KEPT, "status, channel and times only"),
    "messages": TablePrivacy(
        Handling.ERASED, "texts and channel message ids emptied; direction, sender, times kept"
    ),
    "outbox": TablePrivacy(
        Handling.ERASED,
        'pending rows suppressed ("contact forgotten"); texts, buttons, addresses and channel'
        " message ids emptied; keys naming a web chat visitor replaced; statuses, reasons and"
        " the funnel step a row was sent for (enrollment and step ids) kept for reports",
    ),
    "inbound_updates": TablePrivacy(
        Handling.ERASED,
        "raw updates from the person (Telegram user or chat, web chat visitor) replaced by"
        ' {"forgotten": true}; pending ones marked failed; web chat keys replaced',
    ),
    "kb_interactions": TablePrivacy(
        Handling.ERASED, "questions emptied; decision, article, score and feedback kept"
    ),
    "agents": TablePrivacy(Handling.STAFF, "the team's own accounts"),
    "handoffs": TablePrivacy(
        Handling.ERASED, "desk topic titles and summaries emptied; queue and SLA times kept"
    ),
    "conversation_events": TablePrivacy(
        Handling.ERASED,
        "texts (mirrored messages, notes, summaries) emptied; data keeps only teams, reasons,"
        " scores and ids (customer tags and survey comments dropped); kinds, times kept",
    ),
    "held_replies": TablePrivacy(Handling.ERASED, "reply texts emptied"),
    "settings": TablePrivacy(
        Handling.DELETED,
        "the person's web chat tokens, link codes, shop link codes and desk topic entries",
    ),
    "api_events": TablePrivacy(
        Handling.ERASED,
        'event data emptied; pending ones marked failed ("contact forgotten"); type, times kept',
    ),
    "webhook_deliveries": TablePrivacy(
        Handling.KEPT, "ids, states and reasons only (no names, texts or identifiers)"
    ),
    "enrollments": TablePrivacy(
        Handling.ERASED,
        'open ones exited ("contact forgotten"); trigger events and variables emptied',
    ),
    "coupon_codes": TablePrivacy(Handling.KEPT, "a code handed to the (now anonymous) contact"),
    "funnel_log": TablePrivacy(
        Handling.ERASED,
        "the customer's words in `replied` lines emptied; steps, kinds, reasons and times kept;"
        " an exit line is added",
    ),
    "survey_responses": TablePrivacy(
        Handling.ERASED, "comments emptied; open ones expired; scores kept for reports"
    ),
    "privacy_audit": TablePrivacy(
        Handling.KEPT, "who exported or forgot which contact id, and when"
    ),
    "leases": TablePrivacy(Handling.KEPT, "names of cluster-wide jobs and their holders"),
}
