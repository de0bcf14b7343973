"""Telegram's text rules: HTML parse mode, entities, UTF-16 lengths (no server needed)."""

from __future__ import annotations

import pytest

from bot.fake_telegram.entities import command_entities, strip_text, utf16_len
from bot.fake_telegram.errors import ApiError
from bot.fake_telegram.render import prepare_text
from bot.fake_telegram.state import max_in_window
from bot.fake_telegram.tg_html import HtmlError, parse_html


def test_html_gives_plain_text_and_entities() -> None:
    parsed = parse_html('<b>Hi</b> &lt;you&gt; AT&T <a href="https://x.org/?a=1&amp;b=2">link</a>')
    assert parsed.text == "Hi <you> AT&T link"
    assert parsed.entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 14, "length": 4, "url": "https://x.org/?a=1&b=2"},
    ]


def test_html_nested_pre_code_spoiler_and_emoji() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        '<tg-emoji emoji-id="42">👍</tg-emoji><blockquote expandable>q</blockquote>'
    )
    assert parsed.text == "x = 1st👍q"
    types = [(e["type"], e["offset"], e["length"]) for e in parsed.entities]
    assert types == [
        ("pre", 0, 5),
        ("spoiler", 5, 1),
        ("spoiler", 6, 1),
        ("custom_emoji", 7, 2),
        ("expandable_blockquote", 9, 1),
    ]
    assert parsed.entities[0]["language"] == "python"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href>x</a>", "Expected equal sign in declaration of an attribute"),
        ("é<b", "Unclosed start tag at byte offset 2"),
    ],
)
def test_malformed_html_is_rejected(source: str, error: str) -> None:
    with pytest.raises(HtmlError, match="^" + error.replace("(", r"\(")):
        parse_html(source)


def test_numeric_character_references() -> None:
    assert parse_html("&#128512;&#x41;&#0;&unknown;").text == "😀A\ufffd&unknown;"


def test_utf16_and_commands() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀é") == 3
    assert command_entities("😀 /start@nudge_bot x /help") == [
        {"type": "bot_command", "offset": 3, "length": 16},
        {"type": "bot_command", "offset": 22, "length": 5},
    ]
    assert command_entities("a/b http://x/y") == []


def test_strip_moves_entities() -> None:
    text, entities = strip_text("  hi there ", [{"type": "bold", "offset": 0, "length": 6}])
    assert text == "hi there"
    assert entities == [{"type": "bold", "offset": 0, "length": 4}]


def test_length_counts_visible_utf16_units() -> None:
    markup = "<b>" + "x" * 4096 + "</b>"
    assert prepare_text({"text": markup, "parse_mode": "HTML"}).plain == "x" * 4096
    with pytest.raises(ApiError, match="message is too long"):
        prepare_text({"text": "😀" * 2049})
    with pytest.raises(ApiError, match="message text is empty"):
        prepare_text({"text": "<b> </b>", "parse_mode": "HTML"})


def test_max_in_window() -> None:
    assert max_in_window([], 1.0) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.2, 3.0], 1.0) == 4
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1
