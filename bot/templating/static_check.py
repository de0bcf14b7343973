"""What `nudge check` can tell about a template's limits without rendering it.

Only what goes over a limit whatever the data: operators on constants (`{{ "a" * 10**9 }}`,
`{{ 10 ** 10 ** 10 }}`), `range` of constants, widths and separators given as constants to the
filters and string methods that multiply text (`name | indent(10**6)`, `"a".ljust(10**9)`), and
loops over constant ranges nested so deep that their turns alone exceed the step budget. The
checks are the same functions the render uses; what depends on data is left to render time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import nodes

from bot.templating.environment import limited_range
from bot.templating.estimates import FILTER_ESTIMATES, MATERIALIZED_FILTERS, STRING_METHOD_ESTIMATES
from bot.templating.limits import (
    MAX_RANGE,
    MAX_STEPS,
    TemplateLimitError,
    check_binop,
    measured_size,
    require_within,
)

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


class _NotConstant(Exception):
    """The expression depends on data or on something only a render knows."""


def limit_problems(tree: nodes.Template) -> list[tuple[int, str]]:
    """(line, sentence) for everything in `tree` that is over a limit whatever the data."""
    found: dict[tuple[int, str], None] = {}  # ordered, without repeats
    for node in tree.find_all((nodes.BinExpr, nodes.Call, nodes.Filter)):
        reason = _reason(node)
        if reason is not None:
            found[(node.lineno, reason)] = None
    _walk_loops(tree.body, 1, found)
    return sorted(found)


def _reason(node: nodes.Node) -> str | None:
    try:
        if isinstance(node, nodes.Mod) and isinstance(_constant_or(node.left, None), str):
            # The widths of `"%9999s" % name` pad whatever the values are.
            check_binop("%", _constant(node.left), _constant_or(node.right, ()))
        elif isinstance(node, nodes.BinExpr):
            _constant(node)
        elif isinstance(node, nodes.Call):
            _check_call(node)
        elif isinstance(node, nodes.Filter):
            _check_filter(node)
    except TemplateLimitError as exc:
        return str(exc)
    except Exception:  # not constant, or a mistake of another kind: the render reports it
        return None
    return None


def _constant(node: nodes.Node | None) -> Any:
    """The value of a constant expression, computed under the render's own checks."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [_constant(item) for item in node.items]
        return items if isinstance(node, nodes.List) else tuple(items)
    if isinstance(node, nodes.Neg):
        return -_constant(node.node)
    if isinstance(node, nodes.Pos):
        return +_constant(node.node)
    if isinstance(node, nodes.BinExpr) and node.operator in _OPERATORS:
        left, right = _constant(node.left), _constant(node.right)
        check_binop(node.operator, left, right)
        return _OPERATORS[node.operator](left, right)
    if isinstance(node, nodes.Concat):
        parts = [_constant(part) for part in node.nodes]
        require_within("joining values with `~`", sum(measured_size(part) for part in parts))
        return "".join(str(part) for part in parts)
    raise _NotConstant


def _constant_or(node: nodes.Node | None, unknown: Any) -> Any:
    """The constant value of `node`, or `unknown` (the smallest value it could have at render
    time, so that an estimate from it never says more than the render would)."""
    try:
        return _constant(node)
    except TemplateLimitError:
        raise
    except Exception:
        return unknown


def _arguments(
    node: nodes.Call | nodes.Filter, unknown: Any = _NotConstant
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The call's arguments; one that is not constant is `unknown`, or makes the whole call
    unknown when no stand-in is given."""
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        raise _NotConstant

    def value(argument: nodes.Expr) -> Any:
        return _constant(argument) if unknown is _NotConstant else _constant_or(argument, unknown)

    args = tuple(value(arg) for arg in node.args)
    return args, {str(pair.key): value(pair.value) for pair in node.kwargs}


def _check_call(node: nodes.Call) -> None:
    called = node.node
    if isinstance(called, nodes.Name) and called.name == "range" and not node.kwargs:
        limited_range(*_arguments(node)[0])
    elif isinstance(called, nodes.Getattr) and called.attr in STRING_METHOD_ESTIMATES:
        args, kwargs = _arguments(node, unknown="")
        text = _constant_or(called.node, "")
        if isinstance(text, str):
            estimate = STRING_METHOD_ESTIMATES[called.attr]
            require_within(f"the result of `.{called.attr}()`", estimate(text, args, kwargs))


def _check_filter(node: nodes.Filter) -> None:
    estimate = FILTER_ESTIMATES.get(node.name)
    if estimate is None:
        return
    args, kwargs = _arguments(node, unknown="")
    value = _constant_or(node.node, [] if node.name in MATERIALIZED_FILTERS else "")
    require_within(f"the result of `{node.name}`", estimate(value, args, kwargs))


def _walk_loops(
    children: Iterable[nodes.Node], turns: int, found: dict[tuple[int, str], None]
) -> None:
    """Multiply the turns of loops over constants down their nesting; data loops count once."""
    for node in children:
        if not isinstance(node, nodes.For):
            _walk_loops(node.iter_child_nodes(), turns, found)
            continue
        inner = turns * _turns(node.iter)
        if inner > MAX_STEPS:
            reason = f"loops nested here turn {inner:,} times; the limit is {MAX_STEPS:,} steps"
            found[(node.lineno, reason)] = None
            continue
        _walk_loops(node.body, inner, found)
        _walk_loops(node.else_, turns, found)


def _turns(iterable: nodes.Node) -> int:
    called = iterable.node if isinstance(iterable, nodes.Call) else None
    if (
        isinstance(iterable, nodes.Call)
        and isinstance(called, nodes.Name)
        and called.name == "range"
    ):
        try:
            return len(limited_range(*_arguments(iterable)[0]))
        except TemplateLimitError:
            return MAX_RANGE  # reported as a range already
        except Exception:
            return 1
    value = _constant_or(iterable, ())
    return len(value) if isinstance(value, list | tuple | str) else 1
