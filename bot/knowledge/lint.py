"""The rules articles follow: for each article's content (the loader applies them while reading)
and across articles (`lint`, behind `nudge kb check`): ids, repeated questions, links.

A rule that finds something returns a `Found` (severity and message); the caller knows where.
Errors stop `nudge kb check` (exit 1); warnings are printed and let it pass.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.knowledge.documents import (
    BUTTON_SCHEMES,
    KNOWN_LANGUAGES,
    KbDocument,
    KbLoadResult,
    KbProblem,
    Severity,
    is_safe_url,
    normalize_question,
)

Found = tuple[Severity, str]

MAX_QUESTION_CHARS = 300  # longer is a paste accident, not something a customer types
MAX_TITLE_CHARS = 100  # titles go on buttons, which Telegram cuts short
MAX_BUTTON_CHARS = 64
MAX_BODY_CHARS = 4000  # above this the answer goes out as several messages

_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # ids travel in button callback data
_LANG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")
_MARKUP = re.compile(r"</?[A-Za-z][^<>]*>|\*\*|__|`|\[[^\]]*\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^()\s]*)\)")


def clip(text: str, limit: int = 40) -> str:
    """Enough of a (possibly huge) value to recognise it in a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- one article -------------------------------------------------------------------------------


def id_problem(value: str, what: str = "`id`") -> Found | None:
    if _ID.fullmatch(value):
        return None
    rule = "lowercase latin letters, digits, `-` and `_` (at most 64)"
    return "error", f"{what} `{clip(value)}` must be made of {rule}"


def lang_problem(code: str) -> Found | None:
    if not _LANG.fullmatch(code):
        return "error", f"`lang: {clip(code)}` must be a language code like en, ru, ro or ko"
    if code not in KNOWN_LANGUAGES:
        known = ", ".join(KNOWN_LANGUAGES)
        return "warning", f"language `{code}` is not one of {known}: the bot has no replies in it"
    return None


def title_problem(title: str) -> Found | None:
    if len(title) > MAX_TITLE_CHARS:
        return "warning", f"the title is {len(title)} characters: buttons will cut it short"
    return None


def question_problem(text: str) -> Found | None:
    """An error for a paste accident; a warning (the question is dropped) for one with no words;
    a warning (kept) for markup."""
    if len(text) > MAX_QUESTION_CHARS:
        limit = MAX_QUESTION_CHARS
        return "error", f"question “{clip(text)}” is {len(text)} characters: keep it under {limit}"
    if not question_key(text):
        return "warning", f"question “{clip(text)}” has no words (only emoji or symbols): ignored"
    if _MARKUP.search(text):
        return "warning", f"question “{clip(text)}” has markup: write it as customers type it"
    return None


def unknown_field_problem(name: str, known: tuple[str, ...]) -> Found:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"the fields are {', '.join(known)}"
    return "warning", f"unknown field `{clip(name)}` is ignored: {hint}"


def question_key(text: str) -> str:
    """The words of a question, markup aside: empty for emoji, symbols or markup alone."""
    return normalize_question(_MARKUP.sub(" ", text))


def button_problems(text: str, url: str | None, article: str | None) -> list[Found]:
    found: list[Found] = []
    if not text:
        found.append(("error", "the button has no `text`"))
    if url is not None and article is not None:
        found.append(("error", f"button “{clip(text)}” has both `url` and `article`: keep one"))
    elif url is None and article is None:
        found.append(("error", f"button “{clip(text)}” needs a `url` or an `article` id"))
    if url is not None and not is_safe_url(url, BUTTON_SCHEMES):
        message = f"button link `{clip(url)}` must start with https://, http:// or tg://"
        found.append(("error", message))
    if article is not None and (problem := id_problem(article, "the button's `article`")):
        found.append(problem)
    if len(text) > MAX_BUTTON_CHARS:
        found.append(("warning", f"button text “{clip(text)}” is long: Telegram cuts it short"))
    return found


def body_problems(body: str) -> list[tuple[int, Found]]:
    """Problems of the text, each with its line counted from the body's first line (0)."""
    found: list[tuple[int, Found]] = []
    if len(body) > MAX_BODY_CHARS:
        message = f"the text is {len(body)} characters: it will go out as several messages"
        found.append((0, ("warning", message)))
    for number, line in enumerate(body.split("\n")):
        for link in _LINK.finditer(line):
            if not is_safe_url(link.group(1)):
                message = f"link `{clip(link.group(1))}` is not http(s), tg or mailto: not linked"
                found.append((number, ("warning", message)))
        if tag := _HTML_TAG.search(line):
            message = f"HTML like `{clip(tag.group(0))}` is shown as typed: use **bold** instead"
            found.append((number, ("warning", message)))
    return found


def folder_problem(relative: Path, lang: str) -> Found | None:
    """`ru/delivery.md` saying `lang: en` is almost always a copy-paste slip."""
    folder = relative.parts[0].lower() if len(relative.parts) > 1 else ""
    if folder in KNOWN_LANGUAGES and folder != lang:
        return "warning", f"the article is in folder `{folder}/` but says `lang: {lang}`"
    return None


# --- across articles ---------------------------------------------------------------------------


def lint(result: KbLoadResult) -> list[KbProblem]:
    """The loader's problems plus those only the whole knowledge base shows, sorted by place."""
    documents = result.documents
    by_id: dict[str, KbDocument] = {}
    for document in documents:
        by_id.setdefault(document.id, document)
    problems = [*result.problems, *_duplicate_ids(documents), *_duplicate_questions(documents)]
    # A link to an article whose file has errors looks like a link to nowhere: say so.
    unknown = "no loaded article has that id" if result.errors else "no article has that id"
    for document in documents:
        problems.extend(_button_links(document, by_id, unknown))
        problems.extend(_translation_links(document, by_id, unknown))
    return sort_problems(problems)


def _where(document: KbDocument, line: int) -> str:
    return f"{document.path.as_posix()}:{line}"


def _duplicate_ids(documents: Iterable[KbDocument]) -> Iterator[KbProblem]:
    first: dict[str, KbDocument] = {}
    for document in documents:
        other = first.setdefault(document.id, document)
        if other is not document:
            place = _where(other, other.line_of("id"))
            message = f"id `{document.id}` is already used by {place}"
            yield KbProblem(document.path, document.line_of("id"), None, message)


def _duplicate_questions(documents: Iterable[KbDocument]) -> Iterator[KbProblem]:
    """The same question (case, spacing and punctuation aside) in two articles of a language:
    the bot could not tell which one answers it."""
    seen: dict[tuple[str, str], tuple[KbDocument, int]] = {}
    for document in documents:
        for index, question in enumerate(document.questions):
            key = (document.lang, normalize_question(question))
            other, other_index = seen.setdefault(key, (document, index))
            if other is not document and other.id != document.id:
                place = _where(other, other.question_line(other_index))
                message = f"question “{clip(question)}” is also in `{other.id}` ({place})"
                yield KbProblem(document.path, document.question_line(index), None, message)


def _button_links(
    document: KbDocument, by_id: dict[str, KbDocument], unknown: str
) -> Iterator[KbProblem]:
    for index, button in enumerate(document.buttons):
        if button.article is None:
            continue
        line = document.button_line(index)
        target = by_id.get(button.article)
        text = f"button “{clip(button.text)}” leads to `{button.article}`"
        if target is None:
            yield KbProblem(document.path, line, None, f"{text}, but {unknown}")
        elif target.lang != document.lang:
            message = f"{text}, which is in `{target.lang}`, not `{document.lang}`"
            yield KbProblem(document.path, line, None, message, "warning")


def _translation_links(
    document: KbDocument, by_id: dict[str, KbDocument], unknown: str
) -> Iterator[KbProblem]:
    languages: dict[str, str] = {}
    for index, other_id in enumerate(document.translations):
        line = document.translation_line(index)
        target = by_id.get(other_id)
        if target is None:
            message = f"translation `{other_id}`: {unknown}"
            yield KbProblem(document.path, line, None, message)
            continue
        if target.lang == document.lang:
            message = (
                f"translation `{other_id}` is in `{target.lang}` too: it must be another language"
            )
            yield KbProblem(document.path, line, None, message)
            continue
        if target.lang in languages:
            message = (
                f"`{other_id}` and `{languages[target.lang]}` are both `{target.lang}` versions"
            )
            yield KbProblem(document.path, line, None, message, "warning")
        languages.setdefault(target.lang, other_id)
        if document.id not in target.translations:
            place = _where(target, target.line_of("translations"))
            message = f"`{other_id}` ({place}) does not list `{document.id}` as a translation"
            yield KbProblem(document.path, line, None, message, "warning")


# --- reporting ---------------------------------------------------------------------------------


def sort_problems(problems: Iterable[KbProblem]) -> list[KbProblem]:
    def key(problem: KbProblem) -> tuple[str, int, int]:
        return (problem.path.as_posix(), problem.line or 0, problem.column or 0)

    return sorted(problems, key=key)


def has_errors(problems: Iterable[KbProblem]) -> bool:
    return any(problem.severity == "error" for problem in problems)


def exit_code(problems: Iterable[KbProblem]) -> int:
    """What `nudge kb check` exits with: 1 on any error, 0 with warnings only."""
    return 1 if has_errors(problems) else 0


def format_problems(problems: Iterable[KbProblem]) -> str:
    """One problem a line, in file and line order, then a count: `2 errors, 1 warning`."""
    ordered = sort_problems(problems)
    errors = sum(1 for problem in ordered if problem.severity == "error")
    warnings = len(ordered) - errors
    if not ordered:
        return "knowledge base: no problems found"
    counts = f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    return "\n".join([*(str(problem) for problem in ordered), counts])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
