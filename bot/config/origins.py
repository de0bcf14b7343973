"""Where each setting came from, so a problem can name the file and line or the variable."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config.problems import ENVIRONMENT, ConfigProblem
from bot.config.yaml_tree import Mark, NodeMarks, YamlPath


def dotted(path: YamlPath) -> str:
    """`('bot', 'languages', 1)` -> `bot.languages[1]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


@dataclass
class Origins:
    file: str
    """The config file as the user named it (`config.yaml`)."""
    marks: dict[YamlPath, NodeMarks] = field(default_factory=dict)
    env: dict[tuple[str, ...], str] = field(default_factory=dict)
    """(section, key, ...) -> the environment variable that set it."""

    def from_env(self, path: YamlPath) -> str | None:
        """The variable that set the setting at `path` or one of its parents, if any."""
        found = self._env_at(path)
        return found[0] if found else None

    def _env_at(self, path: YamlPath) -> tuple[str, int] | None:
        """(variable, how many parts of `path` it names), the longest match first."""
        for end in range(len(path), 1, -1):
            variable = self.env.get(tuple(str(part) for part in path[:end]))
            if variable is not None:
                return variable, end
        return None

    def problem(self, path: YamlPath, message: str, *, at_key: bool = False) -> ConfigProblem:
        """A problem about the setting at `path`: at its variable if the environment set it,
        else at its key (`at_key`) or value in the file, else at its nearest parent."""
        found = self._env_at(path)
        if found is not None:
            variable, end = found
            inside = [f"item {p + 1}" if isinstance(p, int) else p for p in path[end:]]
            if inside:  # where in the variable's list or mapping
                message = f"{', '.join(inside)}: {message}"
            return ConfigProblem(ENVIRONMENT, None, None, variable, message)
        mark = self._mark(path, at_key)
        line, column = (mark.line, mark.column) if mark else (None, None)
        return ConfigProblem(self.file, line, column, dotted(path), message)

    def file_problem(self, message: str, mark: Mark | None = None, path: str = "") -> ConfigProblem:
        line, column = (mark.line, mark.column) if mark else (None, None)
        return ConfigProblem(self.file, line, column, path, message)

    def env_problem(self, variable: str, message: str) -> ConfigProblem:
        return ConfigProblem(ENVIRONMENT, None, None, variable, message)

    def _mark(self, path: YamlPath, at_key: bool) -> Mark | None:
        marks = self.marks.get(path)
        if marks is not None:
            return marks.key if at_key and marks.key else marks.value
        for end in range(len(path) - 1, 0, -1):
            parent = self.marks.get(path[:end])
            if parent is not None:
                return parent.key or parent.value
        return None
