"""Read `knowledge_base/`: one Markdown article a file, YAML front matter on top.

Nothing a support lead can put in a file makes this raise: every mistake becomes a `KbProblem`
naming the file and line. A file with an error is skipped (the rest of the folder loads); a file
with only warnings loads, minus what was warned about (a question with no words, say). The shape
of the front matter is checked here; what the values say is checked by the rules in `lint`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.knowledge import lint
from bot.knowledge.documents import (
    KbButton,
    KbDocument,
    KbLoadResult,
    KbProblem,
    Severity,
    markdown_to_html,
)

__all__ = ["KbLoadResult", "article_files", "load_file", "load_folder", "parse_article"]

ARTICLE_SUFFIX = ".md"
IGNORED_NAMES = frozenset({"readme.md"})  # a README may explain the folder; it is no article
MAX_FILE_BYTES = 1_000_000
_HINTS = {
    "id": "a unique name like `delivery-times`",
    "title": "the article's title, shown on buttons",
    "lang": "the language code: en, ru, ro or ko",
    "questions": "a list of questions customers ask, one a line starting with `- `",
}
_FIELDS = (*_HINTS, "tags", "buttons", "translations")
_BUTTON_FIELDS = ("text", "url", "article")


def article_files(root: Path) -> list[Path]:
    """The article files under `root`, sorted: `*.md`, not hidden, not in a hidden folder."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found.extend(
            Path(folder) / name
            for name in files
            if name.lower().endswith(ARTICLE_SUFFIX)
            and not name.startswith(".")
            and name.lower() not in IGNORED_NAMES
        )
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def load_folder(root: Path) -> KbLoadResult:
    """Load every article under `root`; problems come in file order."""
    if not root.is_dir():
        message = "is not a folder" if root.exists() else "knowledge base folder not found"
        return KbLoadResult(problems=(KbProblem(root, None, None, message),))
    documents: list[KbDocument] = []
    problems: list[KbProblem] = []
    for path in article_files(root):
        document, found = load_file(path, root)
        problems.extend(found)
        if document is not None:
            documents.append(document)
    if not documents and not problems:
        problems.append(KbProblem(root, None, None, "no articles (*.md files) found", "warning"))
    return KbLoadResult(tuple(documents), tuple(problems))


def load_file(path: Path, root: Path) -> tuple[KbDocument | None, list[KbProblem]]:
    """Read and check one article; the document is None when the file has an error."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            message = f"the file is {size // 1000} KB: an article must be under 1 MB"
            return None, [KbProblem(path, None, None, message)]
        data = path.read_bytes()
    except OSError as exc:
        return None, [KbProblem(path, None, None, f"cannot read the file: {exc.strerror}")]
    return parse_article(path, data, root)


def parse_article(path: Path, data: bytes, root: Path) -> tuple[KbDocument | None, list[KbProblem]]:
    """Check one article from its bytes (the watcher has read them already)."""
    report = _Report(path)
    try:
        # UTF-8 with or without a BOM; CRLF and lone CR become LF, so line numbers hold.
        text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        byte = data[exc.start : exc.start + 1].hex()
        report.error(line, f"not UTF-8 (byte 0x{byte}): save the file as UTF-8", column)
        return None, report.problems
    document = _parse_text(text, path, root, report)
    return (None if report.has_errors else document), report.problems


def _parse_text(text: str, path: Path, root: Path, report: _Report) -> KbDocument | None:
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        report.error(1, "the file is empty: an article starts with front matter between `---`")
        return None
    if lines[start].rstrip() != "---":
        report.error(start + 1, "no front matter: the file must start with a line `---`")
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() in ("---", "...")), 0)
    if not end:
        report.error(start + 1, "the front matter is not closed: add a line `---` after it")
        return None
    node = _compose("\n".join(lines[start + 1 : end]), start + 1, report)
    fields = _FrontMatter(report, start + 1).read(node) if node is not None else None
    body_lines = lines[end + 1 :]
    blank = next((i for i, line in enumerate(body_lines) if line.strip()), len(body_lines))
    body, body_line = "\n".join(body_lines).strip(), end + 2 + blank
    if not body:
        report.error(body_line, "the article has no text: write the answer below the `---`")
    for offset, (severity, message) in lint.body_problems(body):
        report.add(body_line + offset, message, None, severity)
    if fields is None or report.has_errors:
        return None
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    if found := lint.folder_problem(relative, fields.lang):
        report.add(fields.line_of("lang"), found[1], None, found[0])
    return fields.document(path, body, markdown_to_html(body), body_line)


def _compose(source: str, offset: int, report: _Report) -> MappingNode | None:
    """The YAML node tree of the front matter; `offset` is the number of lines above it."""
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # An unclosed bracket or quote is noticed lines later; the line that opened it is the
        # one to fix.
        opened = exc.context is not None and ("flow" in exc.context or "quoted" in exc.context)
        mark = (exc.context_mark if opened else None) or exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1 + offset, mark.column + 1) if mark else (offset, None)
        problem = exc.problem or exc.context or "cannot be read"
        hint = "text with : # ? , [ ] { } in it needs quotes"
        report.error(line, f"the front matter is not valid YAML: {problem} ({hint})", column)
        return None
    except yaml.YAMLError as exc:  # the reader's (control characters) carry a position only
        line = source.count("\n", 0, getattr(exc, "position", 0)) + 1 + offset
        reason = getattr(exc, "reason", "cannot be read")
        report.error(line, f"the front matter is not valid YAML: {reason}")
        return None
    except RecursionError:
        report.error(offset, "the front matter is nested too deeply to read")
        return None
    if isinstance(node, MappingNode):
        return node
    if node is None or (isinstance(node, ScalarNode) and node.tag.endswith(":null")):
        report.error(offset, "the front matter is empty: it needs id, title, lang and questions")
    else:
        line = node.start_mark.line + 1 + offset
        report.error(line, "the front matter must be fields, one a line: `id: delivery-times`")
    return None


class _Report:
    """The problems of one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[KbProblem] = []

    def add(self, line: int, message: str, column: int | None, severity: Severity) -> None:
        self.problems.append(KbProblem(self.path, line, column, message, severity))

    def error(self, line: int, message: str, column: int | None = None) -> None:
        self.add(line, message, column, "error")

    @property
    def has_errors(self) -> bool:
        return any(problem.severity == "error" for problem in self.problems)


@dataclass
class _Fields:
    """The front matter as read, with the line of every field and item."""

    start: int
    lines: dict[str, int] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)  # id, title, lang
    questions: list[tuple[str, int]] = field(default_factory=list)
    tags: list[tuple[str, int]] = field(default_factory=list)
    buttons: list[tuple[KbButton, int]] = field(default_factory=list)
    translations: list[tuple[str, int]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.text.get("lang", "")

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.start)

    def document(self, path: Path, body: str, html: str, body_line: int) -> KbDocument:
        return KbDocument(
            id=self.text["id"],
            title=self.text["title"],
            lang=self.lang,
            questions=tuple(text for text, _ in self.questions),
            body_markdown=body,
            body_html=html,
            path=path,
            line=self.start,
            tags=tuple(dict.fromkeys(text for text, _ in self.tags)),
            buttons=tuple(button for button, _ in self.buttons),
            translations=tuple(text for text, _ in self.translations),
            field_lines={**self.lines, "body": body_line},
            question_lines=tuple(line for _, line in self.questions),
            button_lines=tuple(line for _, line in self.buttons),
            translation_lines=tuple(line for _, line in self.translations),
        )


class _FrontMatter:
    """Reads the front-matter node into `_Fields`, reporting each mistake at its line."""

    def __init__(self, report: _Report, start: int) -> None:
        self.report = report
        self.start = start  # the line of the opening `---`; YAML's line 0 is the next one

    def at(self, node: Node) -> int:
        return int(node.start_mark.line) + 1 + self.start

    def found(self, node: Node, found: lint.Found | None) -> bool:
        """Report `found` at `node`; True when it was an error."""
        if found is not None:
            self.report.add(self.at(node), found[1], node.start_mark.column + 1, found[0])
        return found is not None and found[0] == "error"

    def read(self, root: MappingNode) -> _Fields:
        found = self.mapping(root, _FIELDS)
        fields = _Fields(self.start, {name: self.at(key) for name, (key, _) in found.items()})
        for name, hint in _HINTS.items():
            if name not in found:
                self.report.error(self.start, f"missing `{name}`: {hint}")
        checks: dict[str, Callable[[str], lint.Found | None]] = {
            "id": lint.id_problem,
            "title": lint.title_problem,
            "lang": lint.lang_problem,
        }
        for name, check in checks.items():
            value = self.text(found[name][1], f"`{name}`") if name in found else None
            value = value.lower().replace("_", "-") if value and name == "lang" else value
            if value is not None and not self.found(found[name][1], check(value)):
                fields.text[name] = value
        fields.questions = self.questions(*found["questions"]) if "questions" in found else []
        fields.tags = self.texts(found["tags"][1], "tags") if "tags" in found else []
        if "translations" in found:
            fields.translations = self.translations(found["translations"][1], fields.text)
        if "buttons" in found:
            fields.buttons = self.buttons(found["buttons"][1])
        return fields

    def mapping(self, node: MappingNode, known: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
        """Field name -> (key node, value node); repeated and unknown names are reported."""
        found: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, ScalarNode) else ""
            if not name:
                self.found(key, ("error", "a field name must be plain text"))
            elif name in found:
                first = self.at(found[name][0])
                self.found(key, ("error", f"`{name}` is given twice (first on line {first})"))
            else:
                found[name] = (key, value)
                if name not in known:
                    self.found(key, lint.unknown_field_problem(name, known))
        return found

    def text(self, node: Node, what: str) -> str | None:
        """A scalar's text as written, spacing folded: `yes` or `404` stay text, not a bool."""
        if not isinstance(node, ScalarNode):
            kind = "a list" if isinstance(node, SequenceNode) else "`key: value` (quote a `: `)"
            self.found(node, ("error", f"{what} must be text, not {kind}"))
            return None
        value = "" if node.tag.endswith(":null") else " ".join(str(node.value).split())
        if not value:
            self.found(node, ("error", f"{what} is empty"))
        return value or None

    def items(self, node: Node, name: str) -> list[Node]:
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode) and node.tag.endswith(":null") and name != "questions":
            return []
        self.found(node, ("error", f"`{name}` must be a list: one item a line, after `- `"))
        return []

    def texts(self, node: Node, name: str) -> list[tuple[str, int]]:
        found = [(self.text(item, f"an item of `{name}`"), item) for item in self.items(node, name)]
        return [(text, self.at(item)) for text, item in found if text is not None]

    def questions(self, key: Node, node: Node) -> list[tuple[str, int]]:
        kept: list[tuple[str, int]] = []
        seen: set[str] = set()
        reported = len(self.report.problems)
        for item in self.items(node, "questions"):
            text = self.text(item, "a question")
            if text is None or self.found(item, lint.question_problem(text)):
                continue
            words = lint.question_key(text)  # empty: no words, warned about above
            if words and words in seen:
                self.found(item, ("warning", f"question “{lint.clip(text)}” is listed twice"))
            elif words:
                seen.add(words)
                kept.append((text, self.at(item)))
        new = self.report.problems[reported:]
        if not kept and not any(problem.severity == "error" for problem in new):
            self.found(key, ("error", "the article needs a question customers would type"))
        return kept

    def translations(self, node: Node, text: dict[str, str]) -> list[tuple[str, int]]:
        kept: list[tuple[str, int]] = []
        for item in self.items(node, "translations"):
            value = self.text(item, "a translation")
            if value is None or self.found(item, lint.id_problem(value, "a translation")):
                continue
            if value == text.get("id"):
                self.found(item, ("error", f"`{value}` lists itself as its own translation"))
                continue
            kept.append((value, self.at(item)))
        return kept

    def buttons(self, node: Node) -> list[tuple[KbButton, int]]:
        kept: list[tuple[KbButton, int]] = []
        for item in self.items(node, "buttons"):
            if not isinstance(item, MappingNode):
                example = '`- {text: Track my order, url: "https://..."}`'
                self.found(item, ("error", f"a button must be text and url or article: {example}"))
                continue
            found = self.mapping(item, _BUTTON_FIELDS)
            values = {
                name: self.text(value, f"the button's `{name}`")
                for name, (_, value) in found.items()
                if name in _BUTTON_FIELDS
            }
            if "text" in found and values["text"] is None:
                continue  # its empty or wrong-typed text has been reported
            text = values.get("text") or ""
            problems = lint.button_problems(text, values.get("url"), values.get("article"))
            errors = [self.found(item, problem) for problem in problems]
            if text and not any(errors) and all(value for value in values.values()):
                button = KbButton(text, values.get("url"), values.get("article"))
                kept.append((button, self.at(item)))
        return kept
