"""The desk's inline keyboards."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.agent_desk.callbacks import Verb, encode, fits
from bot.domain.handoff import Agent

log = logging.getLogger(__name__)


def _button(text: str, verb: Verb, target_id: int, arg: str | None = None) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(verb, target_id, arg))


def controls(handoff_id: int) -> InlineKeyboardMarkup:
    """Under a hand-off's summary: Take / Transfer / Close / Back to bot."""
    return InlineKeyboardMarkup(
        [
            [
                _button("✋ Take", Verb.TAKE, handoff_id),
                _button("↪️ Transfer", Verb.TRANSFER, handoff_id),
            ],
            [
                _button("✅ Close", Verb.CLOSE, handoff_id),
                _button("🤖 Back to bot", Verb.BOT, handoff_id),
            ],
        ]
    )


def transfer_targets(
    handoff_id: int, agents: Iterable[Agent], teams: Iterable[str]
) -> InlineKeyboardMarkup:
    """One button per agent (by name) and per team, two a row, then Back."""
    buttons: list[InlineKeyboardButton] = []
    for agent in agents:
        buttons.extend(_target(handoff_id, f"🧑‍💼 {agent.name}", agent.key))
    for team in teams:
        buttons.extend(_target(handoff_id, f"👥 {team}", team))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button("⬅️ Back", Verb.BACK, handoff_id)])
    return InlineKeyboardMarkup(rows)


def _target(handoff_id: int, label: str, target: str) -> list[InlineKeyboardButton]:
    if not fits(Verb.TRANSFER_TO, handoff_id, target):
        # Telegram caps callback data at 64 bytes; /transfer still reaches this target.
        log.warning("transfer target %r is too long for a button; use /transfer", target)
        return []
    return [_button(label, Verb.TRANSFER_TO, handoff_id, target)]


def approval(held_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button("👍 Approve", Verb.APPROVE, held_id), _button("👎 Reject", Verb.REJECT, held_id)]]
    )


def reopen(response_id: int) -> InlineKeyboardMarkup:
    """Under a low survey score: a supervisor puts the chat back in the queue."""
    return InlineKeyboardMarkup([[_button("🔁 Reopen the chat", Verb.REOPEN, response_id)]])
