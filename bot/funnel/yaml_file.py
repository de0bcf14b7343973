"""Opening a marketer's YAML file (a funnel or a survey): its text, parsed with positions, and
the problems found before any field is read, each with file:line:column."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config.origins import dotted
from bot.config.yaml_tree import NodeMarks, YamlPath, YamlSyntaxError, parse_yaml
from bot.funnel.reader import Problem, Reader


@dataclass(frozen=True, slots=True)
class OpenedYaml:
    """A parsed file: a reader holding its structural problems so far, the data and positions."""

    reader: Reader
    data: dict[str, Any]
    marks: Mapping[YamlPath, NodeMarks]
    readable: bool  # there is data to read fields from (or nothing was wrong with the shape)


def file_text(path: Path, shown_as: str) -> str | Problem:
    """The file's text, or why it cannot be read (missing, unreadable, not UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(shown_as, None, None, f"cannot read: {exc}")


def open_yaml(text: str, shown_as: str, expected_shape: str) -> OpenedYaml | Problem:
    """Parse `text`. A syntax error is the one problem; otherwise the parser's structural
    issues are the reader's first problems. `expected_shape` is said when the file is not a
    mapping at all ("a funnel file is a mapping: `id:`, ..."): the parser's own sentence
    speaks of config.yaml's sections."""
    try:
        document = parse_yaml(text)
    except YamlSyntaxError as exc:
        line, column = (exc.mark.line, exc.mark.column) if exc.mark else (None, None)
        return Problem(shown_as, line, column, exc.message)
    reader = Reader(shown_as, document.marks)
    for issue in document.issues:
        message = expected_shape if issue.path == () else issue.message
        line, column = (issue.mark.line, issue.mark.column) if issue.mark else (None, None)
        reader.problems.append(Problem(shown_as, line, column, message, field=dotted(issue.path)))
    readable = bool(document.data) or not document.issues
    return OpenedYaml(reader, document.data, document.marks, readable)
