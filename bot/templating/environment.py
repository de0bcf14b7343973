"""The sandbox message templates render in: Jinja2's immutable sandbox plus the limits of
`limits.py`, checked while rendering.

- `*`, `**`, `+` and `%` are sized from their operands before they run, and so is `~`;
- `range` gives at most MAX_RANGE numbers; `lipsum` is gone;
- every loop turn, call, filter and comparison takes steps from the render's budget (plus the
  items of data it handles), and the filters and string methods that multiply text (`center`,
  `indent`, `join`, `.ljust`, `.format`...) are sized from their arguments first;
- everything written, printed values and the template's own text, counts towards
  MAX_WRITTEN_CHARS, also inside `{% set %}` blocks and macros that never reach the output;
- `render_limited` stops the output at MAX_OUTPUT_CHARS while it is being produced.

A limit that is hit raises TemplateLimitError inside the template, so the error carries the
template's file and line like any other render failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from copy import copy
from typing import Any, cast

from jinja2 import Template, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame, operators
from jinja2.runtime import Context, Undefined, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.templating.estimates import (
    FILTER_ESTIMATES,
    MATERIALIZED_FILTERS,
    STRING_METHOD_ESTIMATES,
    materialized,
)
from bot.templating.limits import (
    MAX_OUTPUT_CHARS,
    MAX_RANGE,
    active_budget,
    charge,
    check_binop,
    fresh_budget,
    measured_size,
    require_small,
    require_within,
    too_big,
    work_of,
)

# Keyword arguments Jinja adds to calls made inside loops and blocks; not the template's own.
_JINJA_CALL_KWARGS = frozenset({"_loop_vars", "_block_vars"})

# What a filter marked `pass_context`, `pass_eval_context` or `pass_environment` gets first.
_PASSED: dict[str, Callable[[Context], tuple[Any, ...]]] = {
    "context": lambda context: (context,),
    "eval_context": lambda context: (context.eval_ctx,),
    "environment": lambda context: (context.environment,),
}


# The name under which a `{% for %}` loop's iterable is handed to `LimitedSandbox.counted`. Jinja
# allows no new node types, so the loop's iterable becomes a call of this environment attribute,
# which the template's own code cannot name.
_COUNTED = "counted"


class _LimitedCodeGenerator(CodeGenerator):
    """Compiles templates so that loops, comparisons, `~` and written text report to the render's
    budget."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        counted = copy(node)  # the caller's tree stays as parsed
        wrapper = nodes.EnvironmentAttribute(_COUNTED, lineno=node.iter.lineno)
        counted.iter = nodes.Call(wrapper, [node.iter], [], None, None, lineno=node.iter.lineno)
        super().visit_For(counted, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        called = node.node
        if isinstance(called, nodes.EnvironmentAttribute) and called.name == _COUNTED:
            self.write(f"environment.{_COUNTED}(")  # directly: not a call the template makes
            self.visit(node.args[0], frame)
            self.write(")")
            return
        super().visit_Call(node, frame, forward_caller=forward_caller)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined(context.eval_ctx.autoescape, (")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")

    def visit_Operand(self, node: nodes.Operand, frame: Frame) -> None:
        # `x in items`, `a == b`: the right side is handed over to be charged for its size.
        self.write(f" {operators[node.op]} environment.compared(")
        self.visit(node.expr, frame)
        self.write(")")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        # The template's own text, written to the output or to a `{% set %}` block's buffer.
        return f"environment.written({super()._output_const_repr(group)})"


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, with every limit of `bot.templating.limits` applied."""

    code_generator_class = _LimitedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_measured_output, **options)
        self.globals["range"] = limited_range
        # Paragraphs of placeholder Latin never belong in a message, and `lipsum(n=10**6)`
        # would build megabytes of them.
        del self.globals["lipsum"]
        self.filters = {name: _limited_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        charge(1)
        check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        charge(1 + work_of(getattr(obj, "__self__", None)) + sum(map(work_of, args)))
        method = _string_method(obj)
        if method is not None:
            text, name = method
            if name == "join" and args:
                args = (materialized(args[0]), *args[1:])
            estimate = STRING_METHOD_ESTIMATES.get(name)
            if estimate is not None:
                own = {k: v for k, v in kwargs.items() if k not in _JINJA_CALL_KWARGS}
                require_within(f"the result of `.{name}()`", estimate(text, args, own))
        result = super().call(context, obj, *args, **kwargs)
        _check_result("the result of a call", result)
        return result

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = active_budget()
        for item in iterable:
            budget.spend()
            yield item

    def joined(self, autoescape: bool, parts: tuple[Any, ...]) -> str:
        """`a ~ b ~ c`, sized from its parts before they are joined."""
        require_within("joining values with `~`", sum(measured_size(part) for part in parts))
        return markup_join(parts) if autoescape else str_join(parts)

    def compared(self, value: Any) -> Any:
        """The right side of a comparison: searching or comparing it costs its items."""
        charge(work_of(value))
        return value

    def written(self, text: str) -> str:
        active_budget().write(len(text))
        return text


def render_limited(template: Template, context: Mapping[str, Any]) -> str:
    """Render `template` within a fresh budget, stopping once the output is over the cap."""
    with fresh_budget():
        stream = cast(Generator[str, None, None], template.generate(dict(context)))
        try:
            return _collected(stream)
        finally:
            stream.close()


def _collected(stream: Generator[str, None, None]) -> str:
    pieces: list[str] = []
    length = 0
    for piece in stream:
        length += len(piece)
        if length > MAX_OUTPUT_CHARS:
            error = too_big("the message", length, MAX_OUTPUT_CHARS)
            # Thrown in where the template stands, so it comes back with the template's line.
            stream.throw(error)
            raise error
        pieces.append(piece)
    return "".join(pieces)


def limited_range(*args: int) -> range:
    numbers = range(*args)
    # len() of a range longer than the machine's integers raises, so work the length out.
    step = numbers.step
    distance = numbers.stop - numbers.start if step > 0 else numbers.start - numbers.stop
    length = max(0, (distance + abs(step) - 1) // abs(step))
    if length > MAX_RANGE:
        raise too_big("the range", length, MAX_RANGE, unit="numbers")
    return numbers


@pass_context
def _measured_output(context: Context, value: Any) -> Any:
    """Every printed value: sized before it is turned into text, and counted as written."""
    if isinstance(value, Undefined):  # left to fail with its own message when printed
        return value
    size = require_small("a printed value", value)
    active_budget().write(size)
    return value


def _check_result(what: str, result: Any) -> None:
    if isinstance(result, str | list | tuple | dict | set | frozenset):
        require_small(what, result)


def _string_method(obj: Any) -> tuple[str, str] | None:
    """(the string, the method name) when `obj` is a bound method of a string."""
    owner = getattr(obj, "__self__", None)
    if isinstance(owner, str):
        return owner, obj.__name__
    # The sandbox hands out its own wrapper around `str.format`; it keeps the original.
    wrapped = getattr(obj, "__wrapped__", None)
    owner = getattr(wrapped, "__self__", None)
    if isinstance(owner, str):
        return owner, str(getattr(wrapped, "__name__", ""))
    return None


def _nothing_passed(context: Context) -> tuple[Any, ...]:
    return ()


def _limited_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` taking a step per call plus the items it handles, sized first when it can multiply
    text. Every filter becomes `pass_context`, which also keeps Jinja from running it while
    compiling (constant arguments would otherwise be folded at compile time, unbudgeted)."""
    passes = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
    passed = _PASSED.get(passes or "", _nothing_passed)
    estimate = FILTER_ESTIMATES.get(name)

    def limited(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        charge(1 + work_of(value))
        if name in MATERIALIZED_FILTERS:
            value = materialized(value)
        if estimate is not None:
            require_within(f"the result of `{name}`", estimate(value, args, kwargs))
        result = func(*passed(context), value, *args, **kwargs)
        _check_result(f"the result of `{name}`", result)
        return result

    functools.update_wrapper(limited, func)
    return pass_context(limited)
