"""Hypothesis strategies shared by the fuzz tests: JSON, Telegram-shaped updates, hostile text."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Text that breaks things: markup, template syntax, control characters, surrogates' neighbours,
# right-to-left marks, very long words, NUL.
HOSTILE_PIECES = [
    "<b>",
    "</a>",
    "&amp;",
    "{{ ''.__class__ }}",
    "{% for x in range(9) %}",
    "\x00",
    "\u202e",
    "\ufeff",
    "𝔘𝔫𝔦",
    "'; DROP TABLE contacts; --",
    "\n\n",
    "x" * 300,
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=20)), max_size=6
).map("".join)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=16,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=6)

telegram_ids = st.integers(min_value=1, max_value=2**52)
users = st.fixed_dictionaries(
    {"id": telegram_ids, "is_bot": st.booleans(), "first_name": hostile_text},
    optional={
        "last_name": hostile_text,
        "username": st.from_regex(r"[A-Za-z][A-Za-z0-9_]{3,30}", fullmatch=True),
        "language_code": st.sampled_from(["en", "ru", "ro", "ko", "pt-BR", "xx", ""]),
    },
)
chats = st.fixed_dictionaries(
    {"id": st.integers(min_value=-(2**52), max_value=2**52), "type": st.sampled_from(
        ["private", "private", "group", "supergroup", "channel"]
    )},
    optional={"first_name": hostile_text, "title": hostile_text},
)  # fmt: skip
texts = st.one_of(
    hostile_text,
    st.text(max_size=5000),
    st.sampled_from(["/start", "/stop", "/start promo", "/help", "/start c_x", "/start w_y"]),
)
messages = st.fixed_dictionaries(
    {
        "message_id": st.integers(min_value=1, max_value=2**31),
        "date": st.integers(min_value=0, max_value=2**31),
        "chat": chats,
    },
    optional={"from": users, "text": texts, "caption": hostile_text},
)
callbacks = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=20), "from": users, "chat_instance": st.text(max_size=20)},
    optional={"data": st.text(max_size=64), "message": messages},
)
member_changes = st.fixed_dictionaries(
    {
        "chat": chats,
        "from": users,
        "date": st.integers(min_value=0, max_value=2**31),
        "old_chat_member": st.fixed_dictionaries(
            {"status": st.sampled_from(["member", "kicked", "left", "odd"]), "user": users}
        ),
        "new_chat_member": st.fixed_dictionaries(
            {"status": st.sampled_from(["member", "kicked", "left", "odd"]), "user": users}
        ),
    }
)


def _drop_a_key(update: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """A structural mutation: one field of the update (at any depth) removed or replaced."""
    node: Any = update
    while isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        if not isinstance(node[key], dict) or draw(st.booleans()):
            if draw(st.booleans()):
                del node[key]
            else:
                node[key] = draw(json_values)
            break
        node = node[key]
    return update


@st.composite
def telegram_updates(draw: st.DrawFn) -> dict[str, Any]:
    """Telegram-shaped updates, about one in three structurally damaged."""
    body = draw(
        st.one_of(
            messages.map(lambda m: {"message": m}),
            callbacks.map(lambda c: {"callback_query": c}),
            member_changes.map(lambda c: {"my_chat_member": c}),
            json_objects,
        )
    )
    update: dict[str, Any] = {"update_id": draw(st.integers(min_value=1, max_value=2**40)), **body}
    if draw(st.integers(min_value=0, max_value=2)) == 0:
        update = _drop_a_key(update, draw)
    return update
