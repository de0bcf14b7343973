"""Conditions and expressions in funnel files, like `cart.total > 50 and contact.language == "ru"`.

They use Jinja2's expression syntax (the one templates use inside `{{ }}`) and run in Jinja2's
sandbox with strict undefined. On top of the sandbox, `parse` refuses what a condition never
needs and an attacker would: names or attributes starting with `_` (the way to Python's
internals), calls (`"x".ljust(10**9)`), `**`, and filters outside a short list. `*` is checked
while evaluating, with the limits message templates have (`bot/templating/limits.py`), so
`"ab" * 1000000000` cannot eat the memory; `%` may not format strings at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.meta import find_undeclared_variables
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.templating.limits import check_binop

SAFE_FILTERS = frozenset(
    {
        "abs", "default", "first", "float", "int", "join", "last", "length", "list", "lower",
        "max", "min", "round", "string", "sum", "title", "trim", "unique", "upper",
    }
)  # fmt: skip


class ConditionError(ValueError):
    """A condition cannot be parsed, is refused, or failed while being evaluated."""


class _ConditionEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus limits on the two operators that can build huge values."""

    intercepted_binops = frozenset({"*", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed in conditions")
        check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)


_ENV = _ConditionEnvironment(undefined=StrictUndefined)


@dataclass(frozen=True)
class Expression:
    """A parsed expression; `evaluate` returns its value. `names` are the variables it reads
    (the top-level ones: `cart` for `cart.total`)."""

    text: str
    names: frozenset[str]
    _run: Callable[..., Any] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> Expression:
        """Parse `text`; raises ConditionError with a plain sentence when it cannot be used."""
        if not isinstance(text, str) or not text.strip():
            raise ConditionError("an expression is expected, like cart.total > 50")
        tree = _parse_tree(text)
        _refuse_unsafe(tree, text)
        names = frozenset(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load")
        compiled = _ENV.compile_expression(text, undefined_to_none=False)
        return cls(text=text, names=names, _run=compiled)

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """The value for the given variables; raises ConditionError when a variable it needs is
        missing or the sandbox refuses an operation."""
        try:
            value = self._run(**context)
        except SecurityError as exc:
            raise ConditionError(f"`{self.text}` was refused: {exc}") from exc
        except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            raise ConditionError(f"`{self.text}` failed: {exc}") from exc
        if isinstance(value, Undefined):
            raise ConditionError(f"`{self.text}` is undefined for this contact")
        return value


@dataclass(frozen=True)
class Condition(Expression):
    """An expression used as a yes/no question: `evaluate` returns a bool."""

    @classmethod
    def parse(cls, text: str) -> Condition:
        parsed = Expression.parse(text)
        return cls(text=parsed.text, names=parsed.names, _run=parsed._run)

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        value = super().evaluate(context)
        try:
            return bool(value)
        except TemplateError as exc:  # an undefined value inside, asked for its truth
            raise ConditionError(f"`{self.text}` failed: {exc}") from exc


def template_variables(source: str) -> set[str]:
    """The variables an inline template (a button URL like `https://x/{{ event.cart_id }}`)
    reads; raises ConditionError when it does not parse."""
    try:
        return set(find_undeclared_variables(_ENV.parse(source)))
    except TemplateSyntaxError as exc:
        raise ConditionError(f"`{source}` cannot be read: {exc.message}") from exc


def _parse_tree(text: str) -> nodes.Expr:
    try:
        parser = Parser(_ENV, text, state="variable")
        tree = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current.value
            raise ConditionError(f"`{text}` cannot be read: unexpected `{token}` after the end")
    except TemplateSyntaxError as exc:
        raise ConditionError(f"`{text}` cannot be read: {exc.message}") from exc
    return tree


def _refuse_unsafe(tree: nodes.Expr, text: str) -> None:
    for node in (tree, *tree.find_all(nodes.Node)):  # find_all skips the root itself
        reason = _unsafe_reason(node)
        if reason:
            raise ConditionError(f"`{text}` is refused: {reason}")


def _unsafe_reason(node: nodes.Node) -> str | None:
    private = "names starting with `_` reach Python's internals"
    if isinstance(node, nodes.Name) and node.name.startswith("_"):
        return f"`{node.name}`: {private}"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"`.{node.attr}`: {private}"
    key = (
        node.arg.value
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
        else None
    )
    if isinstance(key, str) and key.startswith("_"):
        return f"`[{key!r}]`: {private}"
    if isinstance(node, nodes.Call):
        return "calls are not allowed in conditions; use a filter such as `| lower`"
    if isinstance(node, nodes.Pow):
        return "`**` is not allowed in conditions"
    if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
        allowed = ", ".join(sorted(SAFE_FILTERS))
        return f"the filter `{node.name}` is not allowed in conditions (allowed: {allowed})"
    return None
