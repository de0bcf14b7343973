"""What the desk writes in the agents' group: topic titles and Telegram-HTML texts. Pure.

Everything that comes from a customer (names, messages) or from config is escaped, so a name
like `<b>Bob</b>` shows as typed and can never break a message's markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.delivery.splitting import escape, split_html
from bot.domain.handoff import Agent, Handoff, HandoffStatus
from bot.domain.model import Direction, Message, Sender

TITLE_LIMIT = 128  # Telegram's limit for a forum topic's name
TEXT_LIMIT = 4096
STATUS_EMOJI = {
    HandoffStatus.QUEUED: "🟡",
    HandoffStatus.OFFERED: "🔵",
    HandoffStatus.ACTIVE: "🟢",
    HandoffStatus.CLOSED: "⚪",
}
_TAG = re.compile(r"<[^<>]*>")
_SENDER_LABEL = {Sender.BOT: "🤖 Bot", Sender.SYSTEM: "⚙️ System"}


@dataclass(frozen=True, slots=True)
class Customer:
    """Who the hand-off is about, as the desk shows it."""

    name: str
    channel: str
    tags: tuple[str, ...] = ()


def topic_title(status: HandoffStatus, customer: Customer) -> str:
    """ "🟡 Anna · telegram", shortened to Telegram's 128 characters (the name gives way)."""
    prefix = f"{STATUS_EMOJI[status]} "
    suffix = f" · {customer.channel}"
    name = " ".join(customer.name.split()) or "Customer"
    room = TITLE_LIMIT - len(prefix) - len(suffix)
    if len(name) > room:
        name = name[: room - 1].rstrip() + "…"
    return prefix + name + suffix


def mention(agent: Agent) -> str:
    """The agent's name, as a mention that notifies them when they have a Telegram account."""
    if agent.telegram_user_id is None:
        return f"<b>{escape(agent.name)}</b>"
    return f'<a href="tg://user?id={agent.telegram_user_id}">{escape(agent.name)}</a>'


def strip_html(text: str) -> str:
    """Outbound texts are stored as Telegram HTML; the transcript shows them as plain text."""
    return html.unescape(_TAG.sub("", text))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "none"


def summary(handoff: Handoff, customer: Customer, *, header: str = "") -> str:
    """The first message of a topic: who, why, which team, by when."""
    lines = [
        header,
        f"<b>{escape(customer.name)}</b> · {escape(customer.channel)} · hand-off #{handoff.id}",
        f"Reason: {escape(handoff.reason.value.replace('_', ' '))}",
        f"Language: {escape(handoff.language)} · Team: {escape(handoff.team)}"
        f" · Priority: {handoff.priority}",
    ]
    if customer.tags:
        lines.append("Tags: " + ", ".join(escape(tag) for tag in customer.tags))
    lines.append(f"First reply due: {_when(handoff.sla_due_at)}")
    if handoff.summary:
        lines.append(f"<i>{escape(handoff.summary)}</i>")
    lines.append("Write in this chat to answer. /note text · /canned NAME · /transfer WHO")
    return "\n".join(line for line in lines if line)


def transcript(messages: Sequence[Message], customer: Customer, *, header: str = "") -> list[str]:
    """The recent conversation as one or more messages (each within Telegram's limit)."""
    if not messages:
        return []
    lines = [f"{header}\n<b>Recent messages</b>" if header else "<b>Recent messages</b>"]
    for message in messages:
        if message.direction is Direction.INBOUND:
            who, text = f"👤 {escape(customer.name)}", message.text
        else:
            who = _SENDER_LABEL.get(message.sender, "🧑‍💼 Agent")
            text = strip_html(message.text)
        lines.append(f"<b>{who}:</b> {escape(text)}")
    return split_html("\n".join(lines), TEXT_LIMIT)


def customer_message(customer: Customer, text: str, *, header: str = "") -> str:
    return _clip(f"{header}👤 <b>{escape(customer.name)}:</b> {escape(text)}")


def agent_message(author: str, via: str, text: str, *, header: str = "") -> str:
    """An agent's reply sent from elsewhere (the console, an approval), shown to the others."""
    where = "" if via in ("", "desk") else f" ({escape(via)})"
    return _clip(f"{header}🧑‍💼 <b>{escape(author)}{where}:</b> {escape(strip_html(text))}")


def note(author: str, text: str, *, header: str = "") -> str:
    return _clip(f"{header}📝 <b>Note by {escape(author)}</b> (internal): {escape(text)}")


def held_reply(held_id: int, author: str, text: str, *, header: str = "") -> str:
    return _clip(
        f"{header}⏳ <b>{escape(author)}</b> (trainee) wants to send:\n"
        f"<blockquote>{escape(strip_html(text))}</blockquote>\n"
        f"Approve, reject, or send <code>/edit {held_id} new text</code>."
    )


def sla_alert(customer: Customer, handoff: Handoff, supervisors: Iterable[Agent]) -> str:
    who = ", ".join(mention(agent) for agent in supervisors) or "Supervisors"
    return (
        f"🚨 {who}: <b>{escape(customer.name)}</b> (hand-off #{handoff.id}, team "
        f"{escape(handoff.team)}) has waited past the first-reply target "
        f"{_when(handoff.sla_due_at)}."
    )


def status_line(text: str, *, header: str = "") -> str:
    """A short line about what happened; `text` is already HTML (names escaped by the caller)."""
    return _clip(f"{header}{text}")


def thread_header(handoff: Handoff, title: str) -> str:
    """In a group without topics every post names its hand-off, so agents know which it is."""
    return f"<b>#{handoff.id} {escape(title)}</b>\n"


def _clip(text: str) -> str:
    """One post per event: a text over the limit keeps its first part and says so."""
    parts = split_html(text, TEXT_LIMIT - 2)
    return parts[0] if len(parts) == 1 else parts[0] + " …"
