"""Every table is classified for privacy, and every table that holds a person is exported."""

from __future__ import annotations

from bot.storage.repositories.privacy_map import TABLE_PRIVACY, Handling
from bot.storage.tables import metadata
from bot.storage.uow import Storage  # noqa: F401  (registers every table on the metadata)


def test_every_table_is_classified_for_privacy() -> None:
    unclassified = sorted(set(metadata.tables) - set(TABLE_PRIVACY))
    assert unclassified == [], (
        f"new table(s) {unclassified}: decide what `nudge contacts forget` does with their"
        " personal data and add them to bot/storage/repositories/privacy_map.py"
        " (and docs/privacy.md)"
    )


def test_no_classification_names_a_table_that_does_not_exist() -> None:
    assert sorted(set(TABLE_PRIVACY) - set(metadata.tables)) == []


def test_every_table_of_a_person_is_in_the_export() -> None:
    """A table with a contact_id (or a conversation's rows) belongs in the export."""
    from bot.storage.repositories.privacy import EXPORTED_BY_CONTACT, EXPORTED_BY_CONVERSATION

    exported = {t.name for t in (*EXPORTED_BY_CONTACT, *EXPORTED_BY_CONVERSATION)} | {
        "contacts",
        "inbound_updates",
    }
    personal = {
        name
        for name, table in metadata.tables.items()
        if "contact_id" in table.c or "conversation_id" in table.c
    }
    assert sorted(personal - exported) == []
    kept_as_is = {name for name, rule in TABLE_PRIVACY.items() if rule.handling is Handling.KEPT}
    staff = {name for name, rule in TABLE_PRIVACY.items() if rule.handling is Handling.STAFF}
    # What a forget changes is also what an export shows (plus settings, which are not data
    # about the person but pointers to them).
    changed = set(TABLE_PRIVACY) - kept_as_is - staff - {"settings"}
    assert sorted(changed - exported) == []


def test_docs_privacy_lists_every_table() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text()
    missing = [name for name in TABLE_PRIVACY if f"| `{name}` |" not in docs]
    assert missing == [], f"docs/privacy.md does not say what a forget does to {missing}"
