"""The limit checks on their own: operators sized from their operands, sizes measured in bounded
time, and estimates of filters and string methods that are never below the real result."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2.filters import do_center, do_indent, do_wordwrap, sync_do_join
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.templating.estimates import FILTER_ESTIMATES, STRING_METHOD_ESTIMATES, materialized
from bot.templating.limits import (
    MAX_INT_BITS,
    MAX_VALUE_CHARS,
    TemplateLimitError,
    check_binop,
    fresh_budget,
    measured_size,
    printf_size,
)

ALLOWED = [
    ("*", "-", 20),
    ("*", 3, "ab"),
    ("*", [1, 2], 1000),
    ("*", "x", MAX_VALUE_CHARS),
    ("*", "abc", -5),
    ("*", 10**600, 10**600),
    ("*", 2.5, 10**9),
    ("**", 2, MAX_INT_BITS - 1),
    ("**", 1, 10**18),
    ("**", -1, 10**18),
    ("**", 0, 10**18),
    ("**", 10, -(10**9)),
    ("**", 2.0, 0.5),
    ("+", "a" * 30_000, "b" * 30_000),
    ("+", [0] * 100, [1] * 100),
    ("+", 10**1000, 1),
    ("%", "%05.1f", 3.14),
    ("%", "%(a)s %(b)s", {"a": 1, "b": 2}),
    ("%", 10**9, 7),
    ("-", 10**9, 7),
]

REFUSED = [
    ("*", "x", MAX_VALUE_CHARS + 1),
    ("*", 10**9, "ab"),
    ("*", [[0] * 1000], 1000),  # a list of lists is as big as everything in it
    ("*", 2**2000, 2**2100),
    ("**", 2, 10**10),
    ("**", -3, 10**6),
    ("+", "a" * 40_000, "b" * 40_000),
    ("+", 2**MAX_INT_BITS, 1),
    ("%", "%99999s", "x"),
    ("%", "%.99999f", 1.0),
    ("%", "%*d", (99_999, 1)),
]


@pytest.mark.parametrize(("operator", "left", "right"), ALLOWED)
def test_operations_of_everyday_sizes_are_allowed(operator: str, left: Any, right: Any) -> None:
    check_binop(operator, left, right)


@pytest.mark.parametrize(("operator", "left", "right"), REFUSED)
def test_operations_that_build_huge_values_are_refused_before_they_run(
    operator: str, left: Any, right: Any
) -> None:
    with pytest.raises(TemplateLimitError, match="the limit is"):
        check_binop(operator, left, right)


def test_measuring_stops_past_the_limit_however_the_value_repeats_itself() -> None:
    doubled: list[Any] = [1]
    for _ in range(200):  # 2**200 leaves when printed, 201 lists in memory
        doubled = [doubled, doubled]
    itself: list[Any] = []
    itself.append(itself)
    for value in (doubled, itself, {"k": doubled}):
        assert MAX_VALUE_CHARS < measured_size(value) < 2 * MAX_VALUE_CHARS
    assert measured_size(doubled, limit=100) < 200


def test_measured_sizes_are_close_to_printed_lengths() -> None:
    for value in ["abc", 12345, 10**500, [1, "two", 3.5, None], {"a": [1, 2], "b": {"c": "d"}}]:
        assert measured_size(value) >= len(str(value)) / 2
        assert measured_size(value) <= len(str(value)) * 3


def test_measuring_inside_a_render_takes_steps() -> None:
    with fresh_budget() as budget:
        measured_size(list(range(1000)))
    assert budget.steps == 1001  # the list and its items


PRINTF = [("%s", "x" * 50), ("%05.1f|%-8s", (3.14159, "ab")), ("%*d", (12, 7)), ("%.3s", "abcdef"),
          ("%(a)10s", {"a": "b"}), ("100%% %s", "sure"), ("%x %o %e", (255, 8, 1.5))]  # fmt: skip


@pytest.mark.parametrize(("template", "values"), PRINTF)
def test_printf_estimates_are_never_below_the_result(template: str, values: Any) -> None:
    assert printf_size(template, values) >= len(template % values)


ENV = ImmutableSandboxedEnvironment()
TEXT = "one two\tthree\nfour five six\n\nseven"
FILTERS = [
    ("center", TEXT, (60,), {}, lambda: do_center(TEXT, 60)),
    ("indent", TEXT, (7,), {"first": True, "blank": True},
     lambda: do_indent(TEXT, 7, first=True, blank=True)),
    ("indent", TEXT, (">>",), {}, lambda: do_indent(TEXT, ">>")),
    ("wordwrap", TEXT * 4, (5,), {"wrapstring": "<br>"},
     lambda: do_wordwrap(ENV, TEXT * 4, 5, wrapstring="<br>")),
    ("replace", TEXT, ("e", "EEE"), {}, lambda: TEXT.replace("e", "EEE")),
    ("replace", TEXT, ("", "-"), {}, lambda: TEXT.replace("", "-")),
    ("join", ["a", "bb", 3], ("--",), {},
     lambda: sync_do_join(EvalContext(ENV), ["a", "bb", 3], "--")),
    ("format", "%s=%08.2f", ("k", 2.5), {}, lambda: "%s=%08.2f" % ("k", 2.5)),  # noqa: UP031
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "args", "kwargs", "real"), FILTERS)
def test_filter_estimates_are_never_below_the_result(
    name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any], real: Any
) -> None:
    assert FILTER_ESTIMATES[name](value, args, kwargs) >= len(str(real()))


METHODS = [
    ("center", TEXT, (80, "*")), ("ljust", "ab", (9,)), ("rjust", "ab", (9,)),
    ("zfill", "-7", (5,)),
    ("expandtabs", "a\tb\t\tc", (6,)), ("replace", "banana", ("a", "oo", 2)),
    ("join", ", ", (["a", "b", "c"],)), ("translate", "abc", ({97: "xyz", 98: None},)),
    ("format", "{0:>10}|{1:.3f}|{name:^7}", (1, 2.0)), ("format", "{:>{}}", ("x", 12)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "args"), METHODS)
def test_string_method_estimates_are_never_below_the_result(
    name: str, text: str, args: tuple[Any, ...]
) -> None:
    kwargs = {"name": "Ann"} if name == "format" and "name" in text else {}
    real = getattr(text, name)(*args, **kwargs)
    assert STRING_METHOD_ESTIMATES[name](text, args, kwargs) >= len(real)


def test_joining_more_items_than_a_message_could_show_is_refused() -> None:
    assert materialized(iter("abc")) == ["a", "b", "c"]
    with pytest.raises(TemplateLimitError, match="joining the items"):
        materialized(iter(range(10**9)))
