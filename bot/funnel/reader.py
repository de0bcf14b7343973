"""Problems in funnel files, and a reader that turns YAML values into typed ones, noting a
problem (with the line and column the YAML parser remembered) for each value it cannot use."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from bot.config.origins import dotted
from bot.config.yaml_tree import Mark, NodeMarks, YamlPath
from bot.funnel.conditions import Condition, ConditionError
from bot.funnel.durations import DurationError, parse_duration

Severity = Literal["error", "warning"]
T = TypeVar("T")

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
ID_RULE = "lowercase latin letters, digits, `-` and `_`, at most 64, like `cart_reminder`"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a funnel file: `path` is the file as given, `line` and `column` count
    from 1, `field` is where inside the file (`steps[3].send`), `message` a plain sentence.
    Prints as `funnels/x.yaml:12:5: steps[3].send: no template `funnel_x` in templates/en`."""

    path: str
    line: int | None
    column: int | None
    message: str
    severity: Severity = "error"
    field: str = ""

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where]
        if self.field:
            parts.append(self.field)
        parts.append(self.message if self.severity == "error" else f"warning: {self.message}")
        return ": ".join(parts)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.column or 0, p.message))


class Reader:
    """Reads one file's values; every `None` it returns comes with a recorded problem."""

    def __init__(self, path: str, marks: Mapping[YamlPath, NodeMarks]) -> None:
        self.path = path
        self.marks = marks
        self.problems: list[Problem] = []

    def problem(
        self, at: YamlPath, message: str, *, at_key: bool = False, severity: Severity = "error"
    ) -> None:
        self.problems.append(make_problem(self.path, self.marks, at, message, at_key, severity))

    def mapping(
        self, value: Any, at: YamlPath, known: Iterable[str], what: str = "this"
    ) -> dict[str, Any] | None:
        """A mapping whose keys are all in `known`; each unknown key is a problem (at the key)."""
        if not isinstance(value, dict):
            self.problem(at, f"{what} must be a mapping of `key: value` lines")
            return None
        allowed = list(known)
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (
                    f"; did you mean `{close[0]}`?" if close else f" (known: {', '.join(allowed)})"
                )
                self.problem((*at, key), f"unknown key `{key}`{hint}", at_key=True)
        return value

    def text(self, value: Any, at: YamlPath, what: str = "a text") -> str | None:
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problem(at, f"{what} is expected here")
        return None

    def ident(self, value: Any, at: YamlPath, what: str = "an id") -> str | None:
        text = self.text(value, at, what)
        if text is not None and not ID_PATTERN.fullmatch(text):
            self.problem(at, f"`{text}` must be made of {ID_RULE}")
            return None
        return text

    def texts(self, value: Any, at: YamlPath, what: str) -> tuple[str, ...] | None:
        """One text, or a non-empty list of them."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            self.problem(at, f"{what} is expected: one, or a list")
            return None
        found = [self.text(item, (*at, i), what) for i, item in enumerate(items)]
        return tuple(f for f in found if f is not None) if None not in found else None

    def duration(self, value: Any, at: YamlPath) -> Any:
        return self.convert(parse_duration, DurationError, value, at)

    def condition(self, value: Any, at: YamlPath) -> Condition | None:
        if not isinstance(value, str):
            self.problem(at, "a condition is expected, like cart.total > 50")
            return None
        result: Condition | None = self.convert(Condition.parse, ConditionError, value, at)
        return result

    def flag(self, value: Any, at: YamlPath) -> bool | None:
        if isinstance(value, bool):
            return value
        self.problem(at, "true or false is expected here")
        return None

    def convert(
        self, parse: Callable[[Any], T], error: type[Exception], value: Any, at: YamlPath
    ) -> T | None:
        try:
            return parse(value)
        except error as exc:
            self.problem(at, str(exc))
            return None


def yes_no(value: Any) -> Any:
    """YAML 1.1 reads an unquoted yes / no as true / false; a marketer meant the words."""
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


def make_problem(
    path: str,
    marks: Mapping[YamlPath, NodeMarks],
    at: YamlPath,
    message: str,
    at_key: bool = False,
    severity: Severity = "error",
) -> Problem:
    """A problem at the value (or key) of `at`, else at its nearest parent, else line 1."""
    mark = _mark(marks, at, at_key)
    return Problem(path, mark.line, mark.column, message, severity, dotted(at))


def _mark(marks: Mapping[YamlPath, NodeMarks], at: YamlPath, at_key: bool) -> Mark:
    found = marks.get(at)
    if found is not None:
        return found.key if at_key and found.key else found.value
    for end in range(len(at) - 1, 0, -1):
        parent = marks.get(at[:end])
        if parent is not None:
            return parent.key or parent.value
    return Mark(1, 1)
