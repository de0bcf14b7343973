"""Loading articles: the good path, every kind of bad input, and the Markdown body converter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.fake_telegram.tg_html import parse_html
from bot.knowledge.documents import (
    KbButton,
    KbDocument,
    KbProblem,
    markdown_to_html,
    normalize_question,
)
from bot.knowledge.loader import article_files, load_file, load_folder, parse_article

GOOD = """\
---
id: delivery-times
title: How long does delivery take?
lang: en
questions:
  - when will my order arrive
  - how long is shipping
tags: [delivery]
buttons:
  - {text: Track my order, url: "https://shop.example/track"}
  - {text: Delivery costs, article: delivery-costs}
translations: [delivery-times-ru]
---
Most orders arrive in **2-4 working days**.
"""


def write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def load(
    tmp_path: Path, content: str | bytes, name: str = "en/article.md"
) -> tuple[KbDocument | None, list[KbProblem]]:
    return load_file(write(tmp_path, name, content), tmp_path)


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def only(problems: list[KbProblem], severity: str = "error") -> KbProblem:
    found = [problem for problem in problems if problem.severity == severity]
    assert len(found) == 1, found
    return found[0]


# --- the good path ------------------------------------------------------------------------------


def test_a_good_article_loads_with_every_field_and_line(tmp_path: Path) -> None:
    document, problems = load(tmp_path, GOOD)

    assert problems == []
    assert document is not None
    assert (document.id, document.title, document.lang) == (
        "delivery-times",
        "How long does delivery take?",
        "en",
    )
    assert document.questions == ("when will my order arrive", "how long is shipping")
    assert document.tags == ("delivery",)
    assert document.buttons == (
        KbButton("Track my order", url="https://shop.example/track"),
        KbButton("Delivery costs", article="delivery-costs"),
    )
    assert document.translations == ("delivery-times-ru",)
    assert document.body_markdown == "Most orders arrive in **2-4 working days**."
    assert document.body_html == "Most orders arrive in <b>2-4 working days</b>."
    assert document.line == 1
    assert [document.line_of(name) for name in ("id", "title", "lang", "body")] == [2, 3, 4, 14]
    assert document.question_lines == (6, 7)
    assert document.button_lines == (10, 11)
    assert document.translation_lines == (12,)
    assert document.path == tmp_path / "en" / "article.md"


def test_bom_and_crlf_load_the_same_with_the_same_lines(tmp_path: Path) -> None:
    plain, _ = load(tmp_path, GOOD, "en/a.md")
    windows = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    document, problems = load(tmp_path, windows, "en/b.md")

    assert problems == []
    assert document is not None and plain is not None
    assert document.questions == plain.questions
    assert document.body_markdown == plain.body_markdown
    assert document.question_lines == plain.question_lines == (6, 7)


def test_old_mac_line_ends_count_as_lines(tmp_path: Path) -> None:
    document, problems = load(tmp_path, GOOD.replace("\n", "\r"))
    assert problems == [] and document is not None
    assert document.line_of("body") == 14


def test_yes_no_and_numbers_stay_text(tmp_path: Path) -> None:
    text = replace_line(GOOD, "  - how long is shipping", "  - no\n  - 404")
    document, problems = load(tmp_path, text)
    assert problems == [] and document is not None
    assert document.questions == ("when will my order arrive", "no", "404")


def test_problems_print_as_file_line_severity_message() -> None:
    problem = KbProblem(Path("knowledge_base/delivery.md"), 3, None, "missing `title`")
    assert str(problem) == "knowledge_base/delivery.md:3: error: missing `title`"
    warning = KbProblem(Path("kb/a.md"), 3, 7, "odd", "warning")
    assert str(warning) == "kb/a.md:3:7: warning: odd"


# --- bad input: each one a problem with its file and line ---------------------------------------


def test_a_file_without_front_matter(tmp_path: Path) -> None:
    document, problems = load(tmp_path, "Just some text\n")
    assert document is None
    problem = only(problems)
    assert (problem.path, problem.line) == (tmp_path / "en" / "article.md", 1)
    assert "no front matter" in problem.message


def test_an_empty_file(tmp_path: Path) -> None:
    document, problems = load(tmp_path, "\n\n")
    assert document is None
    assert "empty" in only(problems).message


def test_front_matter_that_is_never_closed(tmp_path: Path) -> None:
    document, problems = load(tmp_path, "---\nid: x\ntitle: y\n")
    assert document is None
    problem = only(problems)
    assert problem.line == 1 and "not closed" in problem.message


def test_broken_yaml_names_the_line_in_the_file(tmp_path: Path) -> None:
    text = replace_line(GOOD, "tags: [delivery]", "tags: [delivery")
    document, problems = load(tmp_path, text)
    assert document is None
    problem = only(problems)
    assert "not valid YAML" in problem.message
    assert problem.line == 8  # where the bracket was opened, not where it was missed


def test_an_unclosed_quote_names_its_line(tmp_path: Path) -> None:
    text = replace_line(GOOD, "translations: [delivery-times-ru]", 'translations: ["ru]')
    document, problems = load(tmp_path, text)
    assert document is None
    assert only(problems).line == 12


def test_a_colon_in_a_value_hints_at_quotes(tmp_path: Path) -> None:
    text = replace_line(GOOD, "  - how long is shipping", "  - delivery: how long")
    document, problems = load(tmp_path, text)
    assert document is None
    problem = only(problems)
    assert problem.line == 7 and "quote a `: `" in problem.message


def test_a_tab_in_the_indentation(tmp_path: Path) -> None:
    text = replace_line(GOOD, "  - how long is shipping", "\t- how long is shipping")
    document, problems = load(tmp_path, text)
    assert document is None
    assert only(problems).line == 7


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("- just\n- a list", "must be fields"),
        ("", "front matter is empty"),
        ("~", "front matter is empty"),
        ("id: [" * 2000, "nested too deeply"),
        ("id: x\x00", "not valid YAML"),
    ],
)
def test_front_matter_that_is_not_fields(tmp_path: Path, front: str, expected: str) -> None:
    document, problems = load(tmp_path, f"---\n{front}\n---\nBody\n")
    assert document is None
    assert any(expected in problem.message for problem in problems), problems
    assert all(problem.line is not None for problem in problems)


@pytest.mark.parametrize(
    ("field", "line"), [("id: delivery-times", 2), ("title: How long", 3), ("lang: en", 4)]
)
def test_a_missing_field(tmp_path: Path, field: str, line: int) -> None:
    document, problems = load(
        tmp_path, "\n".join(GOOD.split("\n")[: line - 1] + GOOD.split("\n")[line:])
    )
    assert document is None
    problem = only(problems)
    name = field.split(":")[0]
    assert problem.line == 1 and f"missing `{name}`" in problem.message


def test_missing_questions(tmp_path: Path) -> None:
    text = replace_line(
        GOOD, "questions:\n  - when will my order arrive\n  - how long is shipping\n", ""
    )
    document, problems = load(tmp_path, text)
    assert document is None
    assert "missing `questions`" in only(problems).message


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        ("title: How long does delivery take?", "title: [a, b]", 3, "`title` must be text"),
        ("title: How long does delivery take?", "title:", 3, "`title` is empty"),
        ("lang: en", "lang: {code: en}", 4, "`lang` must be text"),
        ("id: delivery-times", "id: Delivery Times!", 2, "must be made of"),
        ("lang: en", "lang: english", 4, "language code"),
        ("tags: [delivery]", "tags: {a: 1}", 8, "`tags` must be a list"),
        ("tags: [delivery]", "tags: [[nested]]", 8, "an item of `tags` must be text"),
        ("translations: [delivery-times-ru]", "translations: [delivery-times]", 12, "itself"),
        ("translations: [delivery-times-ru]", "translations: Ru", 12, "must be a list"),
    ],
)
def test_a_wrong_field(tmp_path: Path, old: str, new: str, line: int, expected: str) -> None:
    document, problems = load(tmp_path, replace_line(GOOD, old, new))
    assert document is None
    problem = only(problems)
    assert problem.line == line and expected in problem.message, problem


def test_questions_must_be_a_list_of_text(tmp_path: Path) -> None:
    text = replace_line(GOOD, "  - when will my order arrive", "  - {when: arrive}")
    document, problems = load(tmp_path, text)
    assert document is None
    problem = only(problems)
    assert problem.line == 6 and "must be text" in problem.message
    single = replace_line(
        GOOD, "questions:\n  - when will my order arrive\n  - how long is shipping", "questions: hi"
    )
    document, problems = load(tmp_path, single, "en/b.md")
    assert document is None and only(problems).line == 5


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ('"Track my order"', "a button must be"),
        ("{url: 'https://a.example'}", "no `text`"),
        ("{text: Both, url: 'https://a.example', article: x}", "both"),
        ("{text: Neither}", "needs a `url` or an `article`"),
        ("{text: Bad, url: 'javascript:alert(1)'}", "must start with https://"),
        ("{text: Bad, url: '/track'}", "must start with https://"),
        ("{text: Bad, article: 'Not An Id'}", "must be made of"),
        ("{text: [a], url: 'https://a.example'}", "must be text"),
    ],
)
def test_a_wrong_button(tmp_path: Path, button: str, expected: str) -> None:
    text = replace_line(
        GOOD, "  - {text: Delivery costs, article: delivery-costs}", f"  - {button}"
    )
    document, problems = load(tmp_path, text)
    assert document is None
    problem = only(problems)
    assert problem.line == 11 and expected in problem.message, problem


def test_an_empty_body(tmp_path: Path) -> None:
    text = GOOD.replace("Most orders arrive in **2-4 working days**.\n", "\n   \n")
    document, problems = load(tmp_path, text)
    assert document is None
    problem = only(problems)
    assert problem.line is not None and problem.line >= 14 and "no text" in problem.message


def test_an_unknown_language_is_a_warning(tmp_path: Path) -> None:
    document, problems = load(tmp_path, replace_line(GOOD, "lang: en", "lang: FR"), "a.md")
    assert document is not None and document.lang == "fr"
    problem = only(problems, "warning")
    assert problem.line == 4 and "`fr` is not one of en, ru, ro, ko" in problem.message


def test_a_language_that_disagrees_with_its_folder(tmp_path: Path) -> None:
    document, problems = load(tmp_path, GOOD, "ru/article.md")
    assert document is not None
    problem = only(problems, "warning")
    assert problem.line == 4 and "folder `ru/`" in problem.message


def test_a_50_kb_question(tmp_path: Path) -> None:
    huge = "where is my order " * 3000
    text = replace_line(GOOD, "  - how long is shipping", f"  - {huge}")
    document, problems = load(tmp_path, text)
    assert document is None
    problem = only(problems)
    assert problem.line == 7 and "characters: keep it under 300" in problem.message
    assert len(str(problem)) < 200  # the message quotes the start of it, not all of it


@pytest.mark.parametrize("question", ["🤔🤔🤔", "'<b></b>'", "'**!!**'", "'???'"])
def test_a_question_without_words_is_dropped(tmp_path: Path, question: str) -> None:
    text = replace_line(GOOD, "  - how long is shipping", f"  - {question}")
    document, problems = load(tmp_path, text)
    assert document is not None
    assert document.questions == ("when will my order arrive",)
    problem = only(problems, "warning")
    assert problem.line == 7 and "no words" in problem.message


def test_only_wordless_questions_is_an_error(tmp_path: Path) -> None:
    text = replace_line(
        GOOD, "  - when will my order arrive\n  - how long is shipping", "  - 👍\n  - '!!'"
    )
    document, problems = load(tmp_path, text)
    assert document is None
    assert only(problems).line == 5  # the `questions:` key
    assert "needs a question" in only(problems).message


def test_a_question_with_markup_is_kept_with_a_warning(tmp_path: Path) -> None:
    text = replace_line(GOOD, "  - how long is shipping", "  - <b>how long</b> is shipping")
    document, problems = load(tmp_path, text)
    assert document is not None and len(document.questions) == 2
    problem = only(problems, "warning")
    assert problem.line == 7 and "markup" in problem.message


def test_a_question_repeated_in_one_article(tmp_path: Path) -> None:
    text = replace_line(GOOD, "  - how long is shipping", "  - When will my ORDER arrive?!")
    document, problems = load(tmp_path, text)
    assert document is not None and document.questions == ("when will my order arrive",)
    assert only(problems, "warning").line == 7


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    data = GOOD.encode().replace(b"how long is shipping", b"how long is \xff shipping")
    document, problems = load(tmp_path, data)
    assert document is None
    problem = only(problems)
    assert (problem.line, problem.column) == (7, 17)
    assert "not UTF-8" in problem.message and "0xff" in problem.message


def test_a_field_given_twice(tmp_path: Path) -> None:
    document, problems = load(tmp_path, replace_line(GOOD, "lang: en", "lang: en\nid: other"))
    assert document is None
    problem = only(problems)
    assert problem.line == 5 and "given twice (first on line 2)" in problem.message


def test_an_unknown_field_suggests_the_right_name(tmp_path: Path) -> None:
    document, problems = load(tmp_path, replace_line(GOOD, "tags:", "tag:"))
    assert document is not None
    problem = only(problems, "warning")
    assert problem.line == 8 and "did you mean `tags`?" in problem.message


def test_body_links_and_html_are_warned_about(tmp_path: Path) -> None:
    body = "Hi <script>alert(1)</script>\n\nSee [this](javascript:alert) or [ok](https://a.example)"
    document, problems = load(
        tmp_path, GOOD.replace("Most orders arrive in **2-4 working days**.", body)
    )
    assert document is not None
    assert "<script>" not in document.body_html
    assert [(p.line, p.severity) for p in problems] == [(14, "warning"), (16, "warning")]


def test_a_yaml_alias_bomb_is_harmless(tmp_path: Path) -> None:
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nquestions: [*c, *c, *c]"
    document, problems = load(tmp_path, f"---\n{bomb}\n---\nBody\n")
    assert document is None and problems


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    root = Path("/kb")
    document, problems = parse_article(root / "x.md", b"---\n" + data, root)
    assert document is not None or any(problem.severity == "error" for problem in problems)


FRONT_PIECES = st.sampled_from(
    [
        "id: a",
        "title: T",
        "lang: en",
        "questions:",
        "  - q",
        "- x",
        "buttons:",
        "  - {text: t}",
        "translations: [b]",
        "tags: x",
        ": :",
        "[",
        "&a x",
        "*a",
        "'",
        "\t",
        "🤔",
        "---",
        "\ufeff",
    ]
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(FRONT_PIECES, max_size=12), body=st.text(max_size=50))
def test_arbitrary_front_matter_never_crashes(lines: list[str], body: str) -> None:
    root = Path("/kb")
    text = "---\n" + "\n".join(lines) + "\n---\n" + body
    document, problems = parse_article(root / "en" / "x.md", text.encode("utf-8", "replace"), root)
    assert document is not None or problems
    assert all(problem.line is None or problem.line >= 1 for problem in problems)


# --- the folder ---------------------------------------------------------------------------------


def test_the_folder_loads_markdown_files_only_and_skips_broken_ones(tmp_path: Path) -> None:
    write(tmp_path, "en/good.md", GOOD)
    write(tmp_path, "en/broken.md", "no front matter")
    write(tmp_path, "en/notes.txt", "ignored")
    write(tmp_path, "en/.draft.md", "ignored")
    write(tmp_path, ".git/x.md", "ignored")
    write(tmp_path, "README.md", "# How to write articles")
    other = replace_line(GOOD, "id: delivery-times", "id: other")
    write(tmp_path, "en/sub/other.md", other)

    result = load_folder(tmp_path)

    assert [document.id for document in result.documents] == ["delivery-times", "other"]
    assert [problem.path.name for problem in result.problems] == ["broken.md"]
    assert [path.name for path in article_files(tmp_path)] == ["broken.md", "good.md", "other.md"]


def test_a_missing_folder_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    result = load_folder(tmp_path / "nowhere")
    assert result.documents == ()
    assert "not found" in only(list(result.problems)).message


def test_an_empty_folder_is_a_warning(tmp_path: Path) -> None:
    result = load_folder(tmp_path)
    assert only(list(result.problems), "warning").message.startswith("no articles")


def test_a_file_over_a_megabyte(tmp_path: Path) -> None:
    document, problems = load(tmp_path, GOOD + "x" * 1_000_001)
    assert document is None and "1 MB" in only(problems).message


def test_questions_normalise_case_spacing_and_punctuation() -> None:
    assert normalize_question("  Where's   my ORDER?!  ") == normalize_question("where s my order")
    assert normalize_question("Где мой заказ?") == normalize_question("где  мой заказ")
    assert normalize_question("Ещё") == normalize_question("еще")
    assert normalize_question("🤔!!") == ""


# --- Markdown to Telegram HTML ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("Hello", "Hello"),
        ("**bold** and __bold__", "<b>bold</b> and <b>bold</b>"),
        ("*it* and _it_", "<i>it</i> and <i>it</i>"),
        ("***both***", "<b><i>both</i></b>"),
        ("`a <b> & c`", "<code>a &lt;b&gt; &amp; c</code>"),
        (
            "[Track](https://s.example/t?a=1&b=2)",
            '<a href="https://s.example/t?a=1&amp;b=2">Track</a>',
        ),
        ("[Mail](mailto:help@s.example)", '<a href="mailto:help@s.example">Mail</a>'),
        ("[Bot](tg://resolve?domain=shop)", '<a href="tg://resolve?domain=shop">Bot</a>'),
        ("[**Bold link**](https://s.example)", '<a href="https://s.example"><b>Bold link</b></a>'),
        ("one\ntwo", "one\ntwo"),
        ("para one\n\npara two", "para one\n\npara two"),
        ("- a\n- b\n* c", "• a\n• b\n• c"),
        ("1. a\n2) b", "1. a\n2. b"),
        ("# Title\nText", "<b>Title</b>\nText"),
        ("# Title\n\n\n\nText\n\n", "<b>Title</b>\n\nText"),
        ("You can pay with:\n- cards\n- cash", "You can pay with:\n• cards\n• cash"),
        ("#\nlone hash", "lone hash"),
        ("## Sub *it*", "<b>Sub <i>it</i></b>"),
        ("snake_case_name", "snake_case_name"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("\\*not italic\\*", "*not italic*"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("#hashtag", "#hashtag"),
        ("before\n\n---\n\nafter", "before\n\nafter"),
    ],
)
def test_markdown_subset(markdown: str, html: str) -> None:
    assert markdown_to_html(markdown) == html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](javascript:alert)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](//evil.example)",
        '[x](https://a.example"onclick="alert(1))',
        "<img src=x onerror=alert(1)>",
        "&lt;script&gt;",
    ],
)
def test_markdown_never_passes_markup_or_unsafe_links(markdown: str) -> None:
    html = markdown_to_html(markdown)
    assert "<script" not in html and "<img" not in html
    assert "javascript:" not in _hrefs(html) and "data:" not in _hrefs(html)
    assert all(
        href.startswith(("https://", "http://", "tg://", "mailto:")) for href in _hrefs_list(html)
    )
    parse_html(html)  # Telegram would accept it


def test_an_unsafe_link_keeps_its_words() -> None:
    assert markdown_to_html("[click here](javascript:alert)") == "click here"


def test_a_hostile_body_converts_quickly() -> None:
    body = "[" * 20_000 + "**" * 20_000 + "`" + "*_" * 20_000
    html = markdown_to_html(body)
    parse_html(html)


_ALLOWED = {"b", "i", "code", "a"}
_TAG = re.compile(r"<(/?)([a-z-]+)([^>]*)>")


def _hrefs_list(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)">', html)


def _hrefs(html: str) -> str:
    return " ".join(_hrefs_list(html))


def _assert_safe_and_well_formed(html: str) -> None:
    stack: list[str] = []
    for match in _TAG.finditer(html):
        closing, name, attributes = match.groups()
        assert name in _ALLOWED, match.group(0)
        if closing:
            assert stack and stack.pop() == name, html
        else:
            assert attributes == "" or (
                name == "a" and re.fullmatch(r' href="[^"<>]*"', attributes)
            )
            stack.append(name)
    assert stack == []
    without_tags = _TAG.sub("", html)
    assert "<" not in without_tags and ">" not in without_tags
    assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt|quot);)*", without_tags, re.DOTALL)
    for href in _hrefs_list(html):
        assert href.split(":", 1)[0] in {"http", "https", "tg", "mailto"}


PIECES = [*"*_`[]()<>&\"'\\#-+.:/ \n\t1aZ😀я", "https://", "javascript:", "tg://x", "mailto:"]
PIECES += ["<b>", "</a>", "&amp;", "**", "](", "\n- ", "\n1. ", "\n# "]
MARKDOWNISH = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(MARKDOWNISH, st.text(max_size=200)))
def test_any_text_gives_only_allowed_well_formed_tags(text: str) -> None:
    html = markdown_to_html(text)
    _assert_safe_and_well_formed(html)
    parse_html(html)  # and Telegram's parser agrees


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(blacklist_characters="*_`[]\\#-+<>&\r\n\t0123456789 •"),
        min_size=1,
        max_size=100,
    )
)
def test_plain_text_passes_through(text: str) -> None:
    assert markdown_to_html(text) == text.strip()
