"""The key that keeps one customer's updates in order across workers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.telegram.receiver import conversation_key


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"update_id": 1, "message": {"from": {"id": 7}, "chat": {"id": 7}}}, "telegram:7"),
        ({"update_id": 2, "edited_message": {"from": {"id": 8}}}, "telegram:8"),
        ({"update_id": 3, "callback_query": {"id": "q", "from": {"id": 9}}}, "telegram:9"),
        ({"update_id": 4, "my_chat_member": {"from": {"id": 10}}}, "telegram:10"),
        ({"update_id": 5, "poll": {"id": "p"}}, None),  # no customer: ordered per channel
        ({"update_id": 6, "message": {"chat": {"id": 5}}}, None),
    ],
)
def test_the_customer_of_an_update_is_its_conversation(payload: dict[str, Any], key: str) -> None:
    assert conversation_key(payload) == key
