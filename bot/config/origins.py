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
    env: dict[tuple[str, str], str] = field(default_factory=dict)
    """(section, key) -> the environment variable that set it."""

    def from_env(self, path: YamlPath) -> str | None:
        if len(path) < 2:
            return None
        return self.env.get((str(path[0]), str(path[1])))

    def problem(self, path: YamlPath, message: str, *, at_key: bool = False) -> ConfigProblem:
        """A problem about the setting at `path`: at its variable if the environment set it,
        else at its key (`at_key`) or value in the file, else at its nearest parent."""
        variable = self.from_env(path)
        if variable is not None:
            items = [part for part in path[2:] if isinstance(part, int)]
            if items:
                message = f"item {items[0] + 1}: {message}"
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
