"""Which raw updates are the person's: their Telegram user or chat, their web chat token; not
somebody else's message that merely mentions the number."""

from __future__ import annotations

from bot.storage.repositories.privacy_rows import PersonKeys, rewritten_keys
from tests.privacy.world import person, telegram_update

VICTIM, OTHER = person("Quux", 7700771234), person("Byst", 6600665678)
KEYS = PersonKeys.of([("telegram", "7700771234", "7700771234"), ("webchat", "tok_a", "tok_a")])


def test_updates_from_the_person_are_theirs() -> None:
    assert KEYS.names("telegram", telegram_update(VICTIM, 1, "hi"))
    user = {"id": 7700771234, "is_bot": False, "first_name": "Z"}
    callback = {"update_id": 2, "callback_query": {"id": "9", "from": user, "chat_instance": "1"}}
    assert KEYS.names("telegram", callback)
    assert KEYS.names("webchat", {"visitor_token": "tok_a", "text": "hello"})


def test_a_number_in_somebody_elses_text_is_not_the_person() -> None:
    mention = telegram_update(OTHER, 3, "my friend's id is 7700771234, {'id': 7700771234}")
    assert not KEYS.names("telegram", mention)
    assert not KEYS.names("telegram", {"update_id": 4, "message": {"message_id": 7700771234}})
    assert not KEYS.names("webchat", {"visitor_token": "tok_b", "text": "tok_a"})
    assert not KEYS.names("webchat", ["tok_a"])


def test_only_keys_naming_a_web_visitor_are_rewritten() -> None:
    rows = [(1, "reply:webchat:tok_a:c1:0#1"), (2, "reply:telegram:77:0#1"), (3, "survey:5")]
    assert rewritten_keys(rows, frozenset({"tok_a"})) == [1]
