"""split_html: examples plus properties checked with an independent HTML parser."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.delivery.splitting import TELEGRAM_LIMIT, escape, split_html, visible_length

# -- an independent oracle: the stdlib parser, not our tokenizer ---------------------------

Styled = list[tuple[str, tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]]]


class _Oracle(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        self.chars: Styled = []
        self.balanced = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append((tag, tuple(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.balanced = False
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.chars.extend((char, tuple(self.stack)) for char in data)


def styled(html: str) -> Styled:
    """Each visible char with the tags (and attributes) around it."""
    oracle = _Oracle()
    oracle.feed(html)
    oracle.close()
    return oracle.chars


def plain(html: str) -> str:
    return "".join(char for char, _ in styled(html))


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_LEXEME = re.compile(
    r"<(/?)([a-z][a-z0-9-]*)((?:[^<>\"']|\"[^\"]*\")*)>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);|[<>&]"
)


def assert_well_formed(html: str) -> None:
    """Tags balanced and properly nested; no stray < > &; nothing cut in half."""
    stack: list[str] = []
    for match in _LEXEME.finditer(html):
        lexeme = match.group(0)
        assert lexeme not in ("<", ">", "&"), f"stray {lexeme!r} in {html!r}"
        if match.group(2) is None:
            continue
        if match.group(1):
            assert stack and stack[-1] == match.group(2), f"bad nesting in {html!r}"
            stack.pop()
        else:
            stack.append(match.group(2))
    assert not stack, f"unclosed {stack} in {html!r}"
    assert not _LONE_SURROGATE.search(html), f"surrogate pair cut in {html!r}"


_LONE_SURROGATE = re.compile(
    "[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]"
)


def is_space(char: str) -> bool:
    return char.isspace() and char not in "\u00a0\u2007\u202f"


def assert_split_ok(html: str, limit: int) -> list[str]:
    parts = split_html(html, limit)
    if visible_length(html) <= limit:
        assert parts == [html]
        return parts
    original = styled(html)
    pos = 0
    for part in parts:
        assert_well_formed(part)
        assert visible_length(part) == utf16(plain(part)) <= limit
        chars = styled(part)
        while chars and is_space(chars[0][0]):
            chars.pop(0)
        while chars and is_space(chars[-1][0]):
            chars.pop()
        assert chars, f"empty part in {parts!r}"
        while is_space(original[pos][0]):  # only whitespace may vanish at a cut
            pos += 1
        # Same characters, each with the same formatting (tags reopened with attributes).
        assert original[pos : pos + len(chars)] == chars
        pos += len(chars)
    assert all(is_space(char) for char, _ in original[pos:])
    return parts


# -- visible_length / escape -------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "length"),
    [
        ("", 0),
        ("plain", 5),
        ('<b>bold</b> <a href="https://x.y/?a=1&amp;b=2">link</a>', 9),
        ("&lt;b&gt; &amp; &quot;", 7),
        ("&#128512; &#x1F600; &#65;", 7),
        ("😀", 2),
        ("Привет, 세계", 10),
        ('<tg-emoji emoji-id="1">👍</tg-emoji>', 2),
        ("a & b < c", 9),  # bare characters are counted as themselves
    ],
)
def test_visible_length(html: str, length: int) -> None:
    assert visible_length(html) == length


def test_escape() -> None:
    assert escape('<b>"Tom" & Jerry</b>') == "&lt;b&gt;&quot;Tom&quot; &amp; Jerry&lt;/b&gt;"
    assert escape("&amp;") == "&amp;amp;"
    assert escape("it's") == "it's"
    assert plain(escape("<>&\"'x")) == "<>&\"'x"


# -- examples -------------------------------------------------------------------------------


def test_fits_returns_the_text_unchanged() -> None:
    text = "<b>hi</b> there &amp; " + "x" * (TELEGRAM_LIMIT - 11)
    assert visible_length(text) == TELEGRAM_LIMIT
    assert split_html(text, TELEGRAM_LIMIT) == [text]
    assert split_html("", 10) == [""]


def test_default_limit_is_telegrams() -> None:
    parts = split_html("word " * 2000)
    assert len(parts) == 3
    assert all(visible_length(part) <= 4096 for part in parts)


def test_paragraph_preferred_over_later_newline_sentence_and_space() -> None:
    text = "First para. Still first.\n\nSecond line one.\nSecond line two. More words here"
    assert assert_split_ok(text, 60) == [
        "First para. Still first.",
        "Second line one.\nSecond line two. More words here",
    ]


def test_newline_preferred_over_sentence() -> None:
    text = "Line one\nline two. And more words"
    assert assert_split_ok(text, 25) == ["Line one", "line two. And more words"]


def test_sentence_preferred_over_space() -> None:
    text = "One sentence here. Then many words follow"
    assert assert_split_ok(text, 30) == ["One sentence here.", "Then many words follow"]
    assert assert_split_ok('He said "stop." Then he left', 20) == [
        'He said "stop."',
        "Then he left",
    ]
    assert assert_split_ok("Really? Yes! Absolutely right", 16) == [
        "Really? Yes!",
        "Absolutely right",
    ]


def test_cjk_sentence_end_without_space() -> None:
    text = "今日は晴れです。明日は雨が降るでしょう。"
    assert assert_split_ok(text, 12) == ["今日は晴れです。", "明日は雨が降るでしょう。"]


def test_word_cut_uses_the_last_space_that_fits() -> None:
    assert assert_split_ok("alpha beta gamma delta", 12) == ["alpha beta", "gamma delta"]


def test_hard_cut_of_a_10k_character_word() -> None:
    word = "x" * 10_000
    parts = assert_split_ok(word, TELEGRAM_LIMIT)
    assert [len(part) for part in parts] == [4096, 4096, 1808]
    assert "".join(parts) == word


def test_tags_are_closed_and_reopened_with_attributes() -> None:
    text = '<b>bold <i>both</i> <a href="https://e.x/?q=1&amp;r=2">a link text</a> end</b>'
    parts = assert_split_ok(text, 12)
    assert parts == [
        '<b>bold <i>both</i> <a href="https://e.x/?q=1&amp;r=2">a</a></b>',
        '<b><a href="https://e.x/?q=1&amp;r=2">link text</a></b>',
        "<b>end</b>",
    ]


def test_nested_tags_reopen_in_order() -> None:
    text = '<blockquote><span class="tg-spoiler"><u>' + "word " * 10 + "</u></span></blockquote>"
    for part in assert_split_ok(text, 20):
        assert part.startswith('<blockquote><span class="tg-spoiler"><u>')
        assert part.endswith("</u></span></blockquote>")


def test_entities_are_never_cut() -> None:
    text = "&amp;&lt;&#128512;" * 2000
    for part in assert_split_ok(text, 101):
        assert re.fullmatch(r"(?:&amp;|&lt;|&#128512;)+", part)


def test_emoji_and_surrogate_pairs_are_never_cut() -> None:
    parts = assert_split_ok("😀" * 3000, TELEGRAM_LIMIT)
    assert [len(part) for part in parts] == [2048, 952]
    assert split_html("a" + "😀" * 4, 4) == ["a😀", "😀😀", "😀"]
    smuggled = "\ud83d\ude00" * 5  # a surrogate pair as two code points (surrogatepass data)
    assert split_html(smuggled, 5) == ["\ud83d\ude00" * 2] * 2 + ["\ud83d\ude00"]


def test_hard_cut_keeps_grapheme_clusters_together() -> None:
    family = "👨\u200d👩\u200d👧"  # 8 UTF-16 units
    assert split_html(family * 5, 20) == [family * 2, family * 2, family]
    accented = "e\u0301" * 10  # é as e + combining acute
    assert split_html(accented, 5) == ["e\u0301" * 2] * 5
    flags = "🇺🇦🇩🇪"
    assert split_html(flags * 3, 10) == [flags, flags, flags]


def test_korean_and_russian_text() -> None:
    korean = "안녕하세요 여러분. 오늘은 좋은 날입니다. " * 300
    russian = "Привет, как дела? Всё хорошо, спасибо. " * 300
    for text in (korean, russian):
        parts = assert_split_ok(text, TELEGRAM_LIMIT)
        assert len(parts) == math.ceil(visible_length(text) / TELEGRAM_LIMIT)
        assert all(part.rstrip().endswith((".", "?")) for part in parts)


def test_pre_keeps_indentation_after_a_newline_cut() -> None:
    code = '<pre><code class="language-python">def f():\n    return 1\n    return 2</code></pre>'
    assert assert_split_ok(code, 16) == [
        '<pre><code class="language-python">def f():</code></pre>',
        '<pre><code class="language-python">    return 1</code></pre>',
        '<pre><code class="language-python">    return 2</code></pre>',
    ]


def test_pre_drops_indentation_that_would_crowd_out_the_text() -> None:
    assert assert_split_ok("<pre>a\n      b\n  😀😀</pre>", 6) == [
        "<pre>a</pre>",
        "<pre>b</pre>",
        "<pre>  😀😀</pre>",
    ]


def test_closing_tags_stay_with_the_part_before_the_cut() -> None:
    assert split_html("<b>one two</b> <i>three</i>", 9) == ["<b>one two</b>", "<i>three</i>"]


def test_whitespace_only_tail_makes_no_empty_part() -> None:
    assert split_html("<b>aaaa bbbb</b>\n\n   <i> </i>", 5) == ["<b>aaaa</b>", "<b>bbbb</b>"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_html("abc", 0)
    with pytest.raises(ValueError):
        split_html("😀😀", 1)


# -- properties -------------------------------------------------------------------------

_PIECES = [
    "a",
    "b",
    "c",
    "word",
    " ",
    " ",
    "\n",
    "\n\n",
    ". ",
    "! ",
    "? ",
    "。",
    "…",
    ",",
    "\t",
    "😀",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "e\u0301",
    "한국어",
    "Ж",
    "ы",
    "<",
    ">",
    "&",
    '"',
    "'",
    "\u00a0",
    "\ud83c\udf89",
]
_ENTITIES = ["&lt;", "&gt;", "&amp;", "&quot;", "&#128512;", "&#x41;", "&#10;", "&#32;"]
_TAGS = [
    ("b", ""),
    ("strong", ""),
    ("i", ""),
    ("em", ""),
    ("u", ""),
    ("ins", ""),
    ("s", ""),
    ("strike", ""),
    ("del", ""),
    ("code", ""),
    ("pre", ""),
    ("blockquote", ""),
    ("tg-spoiler", ""),
    ("span", ' class="tg-spoiler"'),
    ("a", ' href="https://example.com/?a=1&amp;b=&quot;2&quot;"'),
    ("code", ' class="language-python"'),
]

_text = st.lists(st.sampled_from(_PIECES), max_size=12).map(lambda pieces: escape("".join(pieces)))
_leaf = _text | st.sampled_from(_ENTITIES)
_html = st.recursive(
    _leaf,
    lambda inner: st.tuples(st.sampled_from(_TAGS), st.lists(inner, max_size=4)).map(
        lambda node: f"<{node[0][0]}{node[0][1]}>{''.join(node[1])}</{node[0][0]}>"
    ),
    max_leaves=30,
)
_document = st.lists(_html, max_size=8).map("".join)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=_document, limit=st.integers(2, 40))
@example(html="<b>" + "x" * 50 + "</b>", limit=7)
@example(html="<pre>a\n  b\n\n   c  d</pre>", limit=4)
def test_parts_well_formed_within_limit_and_preserve_text(html: str, limit: int) -> None:
    assert_well_formed(html)  # the generator is sound
    assert visible_length(html) == utf16(plain(html))
    assert_split_ok(html, limit)


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=400))
def test_arbitrary_unicode_text(words: list[str]) -> None:
    text = escape(" ".join(words))
    assert_split_ok(text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace"), 64)
