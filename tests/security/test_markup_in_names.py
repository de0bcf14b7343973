"""Markup in what customers type about themselves (names, tags, attributes, event data) is
shown as typed: in the Telegram HTML of every shipped template and in the agents' desk. The
console and the web chat have their own tests (see docs/security.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.channels.agent_desk import format as desk
from bot.domain.handoff import HandoffStatus
from bot.domain.model import Contact
from bot.rendering import Renderer, RenderError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LINK = '<a href="https://evil.example">click</a>'
HOSTILE = [f"<b>Bob</b> {LINK}", "<script>alert(1)</script>", "</pre><i>x", "{{ name }}"]


class Echo(dict[str, Any]):
    """Any field a template asks for, at any depth, printing as the hostile text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, key: str) -> Echo:
        return Echo(self.text)

    def __str__(self) -> str:
        return self.text


def _context(text: str) -> dict[str, Any]:
    contact = Contact(7, text, "en", attributes={"tags": [text], "city": text})
    context: dict[str, Any] = {"name": text, "contact": contact, "agent": text}
    for name in ("event", "vars", "coupon", "reply", "funnel"):
        context[name] = Echo(text)
    for name in ("opens_day", "opens_time", "opens_weekday", "timezone", "article_language"):
        context[name] = text
    return context


@pytest.mark.parametrize("text", HOSTILE)
def test_no_shipped_template_turns_a_name_into_markup(text: str) -> None:
    renderer = Renderer(TEMPLATES, "en")
    rendered = 0
    for path in sorted(TEMPLATES.glob("*/*.j2")):
        try:
            html = renderer.render(path.stem, path.parent.name, _context(text))
        except RenderError:
            continue  # a template doing arithmetic on a field: not a question of markup
        rendered += 1
        for injected in ("<b>Bob</b>", LINK, "<script>", "</pre>", "<i>x"):
            assert injected not in html, path
        assert "{{" not in html or text == "{{ name }}", path  # printed, never evaluated
    assert rendered >= 120  # nearly every shipped template, in every language


@pytest.mark.parametrize("text", HOSTILE)
def test_the_agents_desk_shows_hostile_names_and_messages_as_text(text: str) -> None:
    customer = desk.Customer(text, "telegram", tags=(text,))
    for html in (
        desk.customer_message(customer, text),
        desk.note(text, text),
        desk.agent_message(text, "console", text),
    ):
        for injected in ("<b>Bob</b>", LINK, "<script>", "</pre>", "<i>x"):
            assert injected not in html
    title = desk.topic_title(HandoffStatus.QUEUED, customer)
    assert text[:10] in title  # topic titles are plain text in Telegram: shown as typed
