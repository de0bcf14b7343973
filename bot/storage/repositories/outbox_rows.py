"""How an outbox row is written and read: its columns, the statements that add one or many,
and the mapping back to `OutboundMessage` (the repository is in `outbox`, the claim in
`outbox_claims`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.sql import Executable

from bot.domain.model import (
    Button,
    Channel,
    OutboundDraft,
    OutboundKind,
    OutboundMessage,
    OutboxStatus,
)
from bot.storage.repositories._base import InsertFactory, PerDialect, binds
from bot.storage.repositories.json_rows import JsonRows, bulk_insert
from bot.storage.tables import outbox


def _buttons_to_json(buttons: list[list[Button]]) -> list[list[dict[str, str]]]:
    # Only the fields that are set: keeps rows small and readable in a SQL shell.
    return [
        [
            {
                name: value
                for name, value in (
                    ("text", button.text),
                    ("url", button.url),
                    ("callback_data", button.callback_data),
                )
                if value is not None
            }
            for button in row
        ]
        for row in buttons
    ]


def _buttons_from_json(data: list[list[dict[str, Any]]]) -> list[list[Button]]:
    return [
        [
            Button(text=item["text"], url=item.get("url"), callback_data=item.get("callback_data"))
            for item in row
        ]
        for row in data
    ]


def to_outbound(row: Row[Any]) -> OutboundMessage:
    return OutboundMessage(
        id=row.id,
        key=row.key,
        contact_id=row.contact_id,
        channel=Channel(row.channel),
        address=row.address,
        text=row.text,
        kind=OutboundKind(row.kind),
        status=OutboxStatus(row.status),
        not_before=row.not_before,
        created_at=row.created_at,
        conversation_id=row.conversation_id,
        buttons=_buttons_from_json(row.buttons),
        thread_id=row.thread_id,
        attempts=row.attempts,
        reason=row.reason,
        channel_message_id=row.channel_message_id,
        sent_at=row.sent_at,
        enrollment_id=row.enrollment_id,
        step_id=row.step_id,
    )


ADDED = (
    "key",
    "contact_id",
    "conversation_id",
    "channel",
    "address",
    "thread_id",
    "text",
    "buttons",
    "kind",
    "priority",
    "not_before",
    "created_at",
    "updated_at",
    "enrollment_id",
    "step_id",
)
_NEW_ROW = {"status": OutboxStatus.PENDING.value, "attempts": 0}


def added_values(draft: OutboundDraft, at: datetime) -> list[Any]:
    """A stored draft's values, in the order of `ADDED`."""
    return [
        draft.key,
        draft.contact_id,
        draft.conversation_id,
        draft.channel.value,
        draft.address,
        draft.thread_id,
        draft.text,
        _buttons_to_json(draft.buttons),
        draft.kind.value,
        draft.kind.priority,
        draft.not_before or at,
        at,
        at,
        draft.enrollment_id,
        draft.step_id,
    ]


def _build_add(insert: InsertFactory, returned: Sequence[Any] = (outbox,)) -> Executable:
    return (
        insert(outbox)
        .values(binds(outbox, *ADDED))
        .values(**_NEW_ROW)
        .on_conflict_do_nothing(index_elements=[outbox.c.key])
        .returning(*returned)
    )


ADD = PerDialect(_build_add)
# add_many: every draft of a batch in one statement (see `JsonRows`); a key already stored is
# skipped, and the keys returned tell which drafts were stored.
NEW_ROWS = JsonRows(outbox, ADDED)
ADD_MANY = bulk_insert(NEW_ROWS, _NEW_ROW, skip_conflicts_on="key", returning=("id", "key"))
# A batch of one (a reply): a plain INSERT costs less CPU than unpacking JSON (bench/enqueue.py).
ADD_ONE = PerDialect(lambda insert: _build_add(insert, (outbox.c.id, outbox.c.key)))
