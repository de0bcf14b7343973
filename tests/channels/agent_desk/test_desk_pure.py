"""The desk's pure parts: callback data, titles, texts and keyboards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.agent_desk import format as fmt
from bot.channels.agent_desk import keyboards
from bot.channels.agent_desk.callbacks import DeskCallback, Verb, encode, parse
from bot.delivery.splitting import visible_length
from bot.domain.handoff import Agent, AgentRole, Handoff, HandoffReason, HandoffStatus
from bot.domain.model import Channel, Direction, Message, Sender

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _handoff(**kw: object) -> Handoff:
    values: dict[str, object] = {
        "id": 42, "conversation_id": 1, "contact_id": 2, "team": "billing", "language": "en",
        "reason": HandoffReason.COMPLAINT, "status": HandoffStatus.QUEUED, "priority": 10,
        "requested_at": AT, "sla_due_at": AT.replace(hour=9, minute=15),
        "summary": "I was charged <twice> & nobody answers",
    }  # fmt: skip
    values.update(kw)
    return Handoff(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("verb", "target", "arg"),
    [(Verb.TAKE, 1, None), (Verb.TRANSFER_TO, 123456789012, "billing"), (Verb.REJECT, 7, None)],
)
def test_callback_data_round_trips(verb: Verb, target: int, arg: str | None) -> None:
    assert parse(encode(verb, target, arg)) == DeskCallback(verb, target, arg)


@pytest.mark.parametrize(
    "data",
    [None, "", "take:1", "d:take", "d:take:x", "d:fly:1", "d:take:1:extra", "d:to:1", "hf:1"],
)
def test_foreign_or_broken_callback_data_is_refused(data: str | None) -> None:
    assert parse(data) is None


def test_callback_data_never_exceeds_64_bytes() -> None:
    assert len(encode(Verb.TRANSFER_TO, 10**17, "x" * 40).encode()) <= 64
    with pytest.raises(ValueError, match="64 bytes"):
        encode(Verb.TRANSFER_TO, 1, "é" * 40)


def test_titles_carry_the_status_and_fit_128_characters() -> None:
    customer = fmt.Customer("Anna  Maria", "webchat")
    assert fmt.topic_title(HandoffStatus.QUEUED, customer) == "🟡 Anna Maria · webchat"
    assert fmt.topic_title(HandoffStatus.ACTIVE, customer).startswith("🟢 ")
    long = fmt.topic_title(HandoffStatus.CLOSED, fmt.Customer("N" * 300, "telegram"))
    assert len(long) == 128 and long.startswith("⚪ NNN") and long.endswith("… · telegram")
    assert fmt.topic_title(HandoffStatus.OFFERED, fmt.Customer("   ", "telegram")) == (
        "🔵 Customer · telegram"
    )


def test_summary_escapes_customer_text_and_lists_the_facts() -> None:
    customer = fmt.Customer("<b>Eve</b>", "telegram", tags=("vip", "<x>"))
    text = fmt.summary(_handoff(), customer)
    assert "<b>&lt;b&gt;Eve&lt;/b&gt;</b> · telegram · hand-off #42" in text
    assert "Reason: complaint" in text and "Team: billing" in text
    assert "Tags: vip, &lt;x&gt;" in text
    assert "First reply due: 2026-01-05 09:15 UTC" in text
    assert "<i>I was charged &lt;twice&gt; &amp; nobody answers</i>" in text


def test_transcript_labels_senders_strips_markup_and_splits() -> None:
    def message(n: int, direction: Direction, sender: Sender, text: str) -> Message:
        return Message(n, 1, 2, direction, sender, Channel.TELEGRAM, text, AT)

    messages = [
        message(1, Direction.INBOUND, Sender.CUSTOMER, "hi <3"),
        message(2, Direction.OUTBOUND, Sender.BOT, "Hello <b>there</b> &amp; welcome"),
        message(3, Direction.OUTBOUND, Sender.AGENT, "Alice here"),
    ]
    [text] = fmt.transcript(messages, fmt.Customer("Ann", "telegram"))
    assert text.splitlines()[1:] == [
        "<b>👤 Ann:</b> hi &lt;3",
        "<b>🤖 Bot:</b> Hello there &amp; welcome",
        "<b>🧑‍💼 Agent:</b> Alice here",
    ]
    many = [message(n, Direction.INBOUND, Sender.CUSTOMER, "x" * 1000) for n in range(10)]
    parts = fmt.transcript(many, fmt.Customer("Ann", "telegram"))
    assert len(parts) > 1 and all(visible_length(p) <= 4096 for p in parts)
    assert fmt.transcript([], fmt.Customer("Ann", "telegram")) == []


def test_long_texts_are_clipped_to_one_message() -> None:
    text = fmt.customer_message(fmt.Customer("Ann", "telegram"), "word " * 2000)
    assert visible_length(text) <= 4096 < visible_length("word " * 2000)
    assert text.endswith(" …")


def test_mentions_and_sla_alerts() -> None:
    sam = Agent(9, "sam", "Sam <boss>", AgentRole.SUPERVISOR, telegram_user_id=1009)
    kim = Agent(10, "kim", "Kim", AgentRole.SUPERVISOR)
    assert fmt.mention(sam) == '<a href="tg://user?id=1009">Sam &lt;boss&gt;</a>'
    alert = fmt.sla_alert(fmt.Customer("Ann", "telegram"), _handoff(), [sam, kim])
    assert alert.startswith('🚨 <a href="tg://user?id=1009">Sam &lt;boss&gt;</a>, <b>Kim</b>: ')
    assert "hand-off #42" in alert and "09:15 UTC" in alert


def test_transfer_keyboard_skips_targets_too_long_for_a_button() -> None:
    agents = [Agent(1, "bob", "Bob"), Agent(2, "k" * 70, "Long Key")]
    markup = keyboards.transfer_targets(5, agents, ["billing"])
    datas = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert datas == ["d:to:5:bob", "d:to:5:billing", "d:back:5"]
    controls = [b.callback_data for row in keyboards.controls(5).inline_keyboard for b in row]
    assert controls == ["d:take:5", "d:tr:5", "d:close:5", "d:bot:5"]
