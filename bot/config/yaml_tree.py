"""Read YAML into plain data while remembering the line and column of every key and value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PathKey = str | int
YamlPath = tuple[PathKey, ...]


@dataclass(frozen=True)
class Mark:
    """A place in the file; both numbers count from 1."""

    line: int
    column: int

    @classmethod
    def of(cls, mark: yaml.Mark) -> Mark:
        return cls(mark.line + 1, mark.column + 1)


@dataclass(frozen=True)
class NodeMarks:
    """Where a mapping key (None for list items) and its value start."""

    key: Mark | None
    value: Mark


@dataclass(frozen=True)
class YamlIssue:
    path: YamlPath
    mark: Mark | None
    message: str


@dataclass
class YamlDocument:
    data: dict[str, Any] = field(default_factory=dict)
    marks: dict[YamlPath, NodeMarks] = field(default_factory=dict)
    issues: list[YamlIssue] = field(default_factory=list)


class YamlSyntaxError(Exception):
    """The text is not YAML; `mark` is where the parser gave up (if it knows)."""

    def __init__(self, message: str, mark: Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document whose top level is a mapping (or nothing at all)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        return _Walker().document(root)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise YamlSyntaxError(f"invalid YAML: {error.reason}", Mark(line, 1)) from None
    except yaml.YAMLError as error:
        raise YamlSyntaxError(f"invalid YAML: {error}", None) from None


def _syntax_error(error: yaml.MarkedYAMLError) -> YamlSyntaxError:
    problem = error.problem or error.context or "cannot be read"
    mark = error.problem_mark or error.context_mark
    message = f"invalid YAML: {problem}"
    if mark is None:
        return YamlSyntaxError(message, None)
    start = error.context_mark
    if error.problem and error.context and start is not None and start.line != mark.line:
        message += f" ({error.context} on line {start.line + 1})"
    return YamlSyntaxError(message, Mark.of(mark))


class _Walker:
    """Builds plain data from composed nodes, recording marks along the way."""

    def __init__(self) -> None:
        self.loader = yaml.SafeLoader("")
        self.doc = YamlDocument()
        self.open: set[int] = set()

    def document(self, root: Node | None) -> YamlDocument:
        if root is None:
            return self.doc
        if not isinstance(root, MappingNode):
            if isinstance(root, ScalarNode) and root.tag.endswith(":null"):
                return self.doc
            message = "the top level must be sections like `web:` and `telegram:`"
            self.doc.issues.append(YamlIssue((), Mark.of(root.start_mark), message))
            return self.doc
        self.doc.data = self.mapping(root, ())
        return self.doc

    def value(self, node: Node, path: YamlPath) -> Any:
        if id(node) in self.open:
            self._issue(path, node, "refers to itself through an alias")
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
            return self.loader.construct_object(node, deep=True)
        finally:
            self.open.discard(id(node))

    def sequence(self, node: SequenceNode, path: YamlPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.doc.marks[(*path, index)] = NodeMarks(None, Mark.of(item.start_mark))
            items.append(self.value(item, (*path, index)))
        return items

    def mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
        self._check_duplicates(node, path)
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._issue(path, key_node, "keys must be plain names, not lists or mappings")
                continue
            child = (*path, str(key_node.value))
            marks = NodeMarks(Mark.of(key_node.start_mark), Mark.of(value_node.start_mark))
            self.doc.marks[child] = marks
            result[str(key_node.value)] = self.value(value_node, child)
        return result

    def _check_duplicates(self, node: MappingNode, path: YamlPath) -> None:
        """A key written twice is a mistake: YAML would silently keep the last one."""
        seen: dict[str, Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key, mark = str(key_node.value), Mark.of(key_node.start_mark)
            if key in seen:
                message = f"is given more than once (first on line {seen[key].line})"
                self.doc.issues.append(YamlIssue((*path, key), mark, message))
            seen.setdefault(key, mark)

    def _issue(self, path: YamlPath, node: Node, message: str) -> None:
        self.doc.issues.append(YamlIssue(path, Mark.of(node.start_mark), message))
