"""What the desk remembers in the key-value settings (no table of its own).

- `agent_desk:offset`: the next getUpdates offset, stored with each update's effects.
- `agent_desk:cursor`: the last conversation event mirrored to the group.
- `agent_desk:msg:<chat>:<message>` -> hand-off id: a bot post outside a forum topic, so an agent
  replying to it acts on that hand-off (non-forum groups, alerts in the general chat).
- `agent_desk:topic:<contact>` -> "<chat>:<thread>": the customer's topic, reopened for their next
  hand-off so their history stays in one place.
- `agent_desk:held:<held id>` -> "<chat>:<message>": the post with Approve / Reject buttons.
"""

from __future__ import annotations

from bot.domain.ports import UnitOfWork

OFFSET_KEY = "agent_desk:offset"
CURSOR_KEY = "agent_desk:cursor"


def _pair(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    first, _, second = value.partition(":")
    try:
        return int(first), int(second)
    except ValueError:
        return None


async def remember_post(uow: UnitOfWork, chat_id: int, message_id: int, handoff_id: int) -> None:
    await uow.settings.put(f"agent_desk:msg:{chat_id}:{message_id}", str(handoff_id))


async def handoff_for_post(uow: UnitOfWork, chat_id: int, message_id: int) -> int | None:
    value = await uow.settings.get(f"agent_desk:msg:{chat_id}:{message_id}")
    return int(value) if value and value.isdigit() else None


async def remember_topic(uow: UnitOfWork, contact_id: int, chat_id: int, thread_id: int) -> None:
    await uow.settings.put(f"agent_desk:topic:{contact_id}", f"{chat_id}:{thread_id}")


async def customer_topic(uow: UnitOfWork, contact_id: int) -> tuple[int, int] | None:
    return _pair(await uow.settings.get(f"agent_desk:topic:{contact_id}"))


async def remember_held(uow: UnitOfWork, held_id: int, chat_id: int, message_id: int) -> None:
    await uow.settings.put(f"agent_desk:held:{held_id}", f"{chat_id}:{message_id}")


async def held_post(uow: UnitOfWork, held_id: int) -> tuple[int, int] | None:
    return _pair(await uow.settings.get(f"agent_desk:held:{held_id}"))


async def read_int(uow: UnitOfWork, key: str) -> int | None:
    value = await uow.settings.get(key)
    return int(value) if value and value.lstrip("-").isdigit() else None
