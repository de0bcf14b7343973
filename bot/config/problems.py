"""Configuration problems: where each one is, and what is wrong, in a plain sentence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ENVIRONMENT = "environment"
"""The `file` of a problem that comes from an environment variable."""


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the configuration.

    `file` is the config file as given (or `environment`), `line` and `column` count from 1,
    `path` is the setting (`delivery.global_per_second`) or the environment variable's name.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [where] if where else []
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists every reason at once."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__(format_problems(self.problems))


def format_problems(problems: Iterable[ConfigProblem]) -> str:
    """A short report: a heading and one problem a line."""
    lines = [str(problem) for problem in problems]
    noun = "problem" if len(lines) == 1 else "problems"
    return "\n".join([f"{len(lines)} configuration {noun}:", *(f"  {line}" for line in lines)])


def sort_problems(problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
    """File problems first, in line order; then environment problems as found."""

    def key(problem: ConfigProblem) -> tuple[int, int, int]:
        from_env = 1 if problem.file == ENVIRONMENT else 0
        return (from_env, problem.line or 0, problem.column or 0)

    return sorted(problems, key=key)
