"""Knowledge-base articles as loaded from `knowledge_base/`, their problems, and their bodies.

A support lead writes the body in a small Markdown subset; the bot sends Telegram-style HTML.
`markdown_to_html` builds that HTML by construction: every tag it emits is one of `<b>`, `<i>`,
`<code>` and `<a href>` (with an allowed scheme), always closed in order, and every other
character of the source is escaped, so text in a body can never become markup.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Severity = Literal["error", "warning"]

KNOWN_LANGUAGES = ("en", "ru", "ro", "ko")
"""Languages the bot has templates for; an article in another language loads with a warning."""

LINK_SCHEMES = frozenset({"http", "https", "tg", "mailto"})
BUTTON_SCHEMES = frozenset({"http", "https", "tg"})  # what a Telegram URL button accepts


@dataclass(frozen=True)
class KbProblem:
    """One thing wrong with the knowledge base; `line` and `column` count from 1."""

    path: Path
    line: int | None
    column: int | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.path.as_posix()
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class KbButton:
    """A button under an answer: a link (`url`) or another article (`article`), never both."""

    text: str
    url: str | None = None
    article: str | None = None


@dataclass(frozen=True)
class KbDocument:
    """One article. `line` is where its front matter starts; the `*_lines` say where each
    field, question, button and translation was written, for problems found later (lint)."""

    id: str
    title: str
    lang: str
    questions: tuple[str, ...]
    body_markdown: str
    body_html: str
    path: Path
    line: int = 1
    tags: tuple[str, ...] = ()
    buttons: tuple[KbButton, ...] = ()
    translations: tuple[str, ...] = ()
    field_lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)
    question_lines: tuple[int, ...] = field(default=(), compare=False)
    button_lines: tuple[int, ...] = field(default=(), compare=False)
    translation_lines: tuple[int, ...] = field(default=(), compare=False)

    def line_of(self, name: str) -> int:
        """The line of a front-matter field (`id`, `title`, ...) or of `body`."""
        return self.field_lines.get(name, self.line)

    def question_line(self, index: int) -> int:
        return _nth(self.question_lines, index, self.line_of("questions"))

    def button_line(self, index: int) -> int:
        return _nth(self.button_lines, index, self.line_of("buttons"))

    def translation_line(self, index: int) -> int:
        return _nth(self.translation_lines, index, self.line_of("translations"))


@dataclass(frozen=True)
class KbLoadResult:
    """Every article that loaded, and every problem found on the way (errors and warnings)."""

    documents: tuple[KbDocument, ...] = ()
    problems: tuple[KbProblem, ...] = ()

    @property
    def errors(self) -> tuple[KbProblem, ...]:
        return tuple(problem for problem in self.problems if problem.severity == "error")


def _nth(lines: tuple[int, ...], index: int, default: int) -> int:
    return lines[index] if 0 <= index < len(lines) else default


# --- questions and links ----------------------------------------------------------------------


def normalize_question(text: str) -> str:
    """Case, width, punctuation and spacing folded away: what makes two questions "the same"."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    kept = [ch if unicodedata.category(ch)[0] in "LNM" else " " for ch in folded]
    return " ".join("".join(kept).split())


def is_safe_url(url: str, schemes: frozenset[str] = LINK_SCHEMES) -> bool:
    """An absolute URL with one of `schemes`, no spaces or control characters."""
    if not url or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced `[` in the host
        return False
    if parts.scheme.lower() not in schemes:
        return False
    if parts.scheme.lower() in ("http", "https"):
        return parts.netloc != ""
    return url.split(":", 1)[1].strip("/") != ""


# --- Markdown to Telegram HTML ----------------------------------------------------------------

_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+(.*?))?[ \t#]*")
_BULLET = re.compile(r"[ \t]*[-*+•][ \t]+(.*)")
_NUMBERED = re.compile(r"[ \t]*(\d{1,9})[.)][ \t]+(.*)")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_ESCAPABLE = frozenset("\\`*_[]()#+-.!<>&")
_MAX_SPAN = 2000  # how far to look for a closing marker: keeps hostile bodies linear-time
_MAX_DEPTH = 4  # nested emphasis deeper than this is shown as typed


def escape_html(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def markdown_to_html(body: str) -> str:
    """Telegram HTML for the Markdown subset of articles (see docs/knowledge-base.md).

    A line break stays a line break, as in a chat message; blank lines between paragraphs
    collapse to one. Headings become bold lines, list items lines starting with "• " or "N. ".
    """
    lines: list[str] = []
    gap = False
    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not raw.strip() or _RULE.fullmatch(raw):
            gap = bool(lines)
            continue
        heading = _HEADING.fullmatch(raw)
        if heading and not heading.group(1):
            continue  # a lone `#`
        if gap:
            lines.append("")
        gap = False
        if heading:
            lines.append(f"<b>{_inline(heading.group(1), 0, links=True)}</b>")
        elif item := _BULLET.fullmatch(raw) or _NUMBERED.fullmatch(raw):
            # the marker is ours, not the author's text: it is never parsed as Markdown
            marker = "• " if item.re is _BULLET else f"{item.group(1)}. "
            lines.append(marker + _inline(item.group(item.re.groups).strip(), 0, links=True))
        else:
            lines.append(_inline(raw.strip(), 0, links=True))
    return "\n".join(lines)


def _inline(text: str, depth: int, *, links: bool) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        rendered, end = _span_at(text, i, depth, links)
        if end > i:
            out.append(rendered)
            i = end
        else:
            out.append(escape_html(text[i]))
            i += 1
    return "".join(out)


def _span_at(text: str, i: int, depth: int, links: bool) -> tuple[str, int]:
    """The markup starting at `text[i]` rendered, and where it ends (`i` when there is none)."""
    ch = text[i]
    if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
        return escape_html(text[i + 1]), i + 2
    if ch == "`":
        close = text.find("`", i + 1, i + _MAX_SPAN)
        if close > i + 1:
            return f"<code>{escape_html(text[i + 1 : close])}</code>", close + 1
    if ch == "[" and links and depth < _MAX_DEPTH:
        return _link_at(text, i, depth)
    if ch in "*_" and depth < _MAX_DEPTH:
        return _emphasis_at(text, i, depth, links)
    return "", i


def _emphasis_at(text: str, i: int, depth: int, links: bool) -> tuple[str, int]:
    """`***bold italic***`, `**bold**` / `__bold__` or `*italic*` / `_italic_`."""
    ch = text[i]
    for size in (3, 2, 1):
        marker = ch * size
        if not text.startswith(marker, i):
            continue
        close = text.find(marker, i + size, i + _MAX_SPAN)
        inner = text[i + size : close]
        if close > i and _emphasis_ok(text, i, close + size, inner):
            html = _inline(inner, depth + 1, links=links)
            opening, closing = _EMPHASIS_TAGS[size]
            return f"{opening}{html}{closing}", close + size
    return "", i


_EMPHASIS_TAGS = {1: ("<i>", "</i>"), 2: ("<b>", "</b>"), 3: ("<b><i>", "</i></b>")}


def _emphasis_ok(text: str, start: int, end: int, inner: str) -> bool:
    if not inner or inner[0].isspace() or inner[-1].isspace():
        return False
    if text[start] == "_":  # snake_case_words are not emphasis
        before = text[start - 1] if start > 0 else " "
        after = text[end] if end < len(text) else " "
        return not (before.isalnum() or after.isalnum())
    return True


def _link_at(text: str, i: int, depth: int) -> tuple[str, int]:
    close = text.find("]", i + 1, i + _MAX_SPAN)
    if close <= i + 1 or "[" in text[i + 1 : close] or not text.startswith("(", close + 1):
        return "", i
    end = text.find(")", close + 2, close + 2 + _MAX_SPAN)
    url = text[close + 2 : end]
    if end < 0 or "(" in url or any(ch.isspace() for ch in url):
        return "", i
    label = _inline(text[i + 1 : close], depth + 1, links=False)
    if not is_safe_url(url):  # the words stay, the unsafe target goes (the loader warns)
        return label, end + 1
    return f'<a href="{escape_html(url, quote=True)}">{label}</a>', end + 1
