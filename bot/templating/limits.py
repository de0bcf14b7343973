"""How big a value a template may build, and how much work one render may do.

Every number here is far above what a chat message needs and far below what hurts a worker. The
checks run *before* an operation is made, from the sizes of its operands, so a refused template
has allocated nothing big when it is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from jinja2.exceptions import SecurityError

# The longest string (or the largest printed size of a list or dict) one operation may build.
# The same as the output cap: no single value may be longer than the whole message.
MAX_VALUE_CHARS = 65_536
# About 1,200 decimal digits: more than any price, count or id, and multiplying or raising numbers
# of that size is instant (`2 ** 10000000000` would take the worker minutes and a gigabyte).
MAX_INT_BITS = 4_096
# Jinja's sandbox allows `range` 100,000 items; a message lists tens of things at most.
MAX_RANGE = 1_000
# One step is one loop turn, call, filter or operator, one item of a list or dict handled, or
# CHARS_PER_STEP characters of a string handled. Real templates take tens or hundreds of steps;
# 100,000 is a fraction of a second of Python, so nested loops over `range` or over big data end
# in a clear error instead of spinning.
MAX_STEPS = 100_000
CHARS_PER_STEP = 64
# A Telegram message holds at most 4,096 characters and longer answers are split into several
# messages further on, so a template may produce 16 messages' worth; beyond that it is a runaway
# loop or a flood of data, stopped after 64 KB instead of after gigabytes.
MAX_OUTPUT_CHARS = 65_536
# Text written anywhere during a render, including what `{% set %}` blocks, macros and
# `{% filter %}` blocks capture before it is printed (and counted again when it is printed).
MAX_WRITTEN_CHARS = 4 * MAX_OUTPUT_CHARS


class TemplateLimitError(SecurityError):
    """A template, or the data it was given, went over one of the limits above."""


def too_big(what: str, size: int, limit: int, unit: str = "characters") -> TemplateLimitError:
    return TemplateLimitError(f"{what} would be {_amount(size)} {unit}; the limit is {limit:,}")


def _amount(size: int) -> str:
    # A refused power can be astronomically large: say about how many digits it has instead
    # (Python refuses to print an integer of more than 4,300 digits anyway).
    return (
        f"{size:,}" if size < 10**15 else f"a {size.bit_length() * 3 // 10 + 1:,}-digit number of"
    )


@dataclass
class Budget:
    """The work and the text one render has used so far."""

    steps: int = 0
    written: int = 0

    def spend(self, steps: int = 1) -> None:
        self.steps += steps
        if self.steps > MAX_STEPS:
            raise TemplateLimitError(
                f"the template takes more than the limit of {MAX_STEPS:,} steps (loop turns, "
                "calls, filters, items of data handled); look for nested loops or loops over "
                "big data"
            )

    def write(self, chars: int) -> None:
        self.written += chars
        if self.written > MAX_WRITTEN_CHARS:
            raise TemplateLimitError(
                f"the template writes more than the limit of {MAX_WRITTEN_CHARS:,} characters "
                "(counting text captured by set blocks and macros)"
            )


_ACTIVE: ContextVar[Budget] = ContextVar("template_budget")


@contextmanager
def fresh_budget() -> Iterator[Budget]:
    """A budget for one render; every render gets its own."""
    token = _ACTIVE.set(Budget())
    try:
        yield _ACTIVE.get()
    finally:
        _ACTIVE.reset(token)


def active_budget() -> Budget:
    try:
        return _ACTIVE.get()
    except LookupError:
        # Only `render_limited` runs templates; anything else would run them without a bound.
        raise RuntimeError("a template ran outside render_limited") from None


def charge(steps: int) -> None:
    """Spend steps when a render is running; funnel conditions run without a budget."""
    budget = _ACTIVE.get(None)
    if budget is not None:
        budget.spend(steps)


def work_of(value: Any) -> int:
    """The steps handling `value` costs: its items, or its characters in CHARS_PER_STEP."""
    if isinstance(value, str):
        return len(value) // CHARS_PER_STEP
    if isinstance(value, list | tuple | dict | set | frozenset):
        return len(value)
    return 0


def measured_size(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """Roughly how many characters `value` takes when printed, counting nested lists and dicts.

    Counting stops once past `limit`, so measuring costs about `limit` steps at most however deep
    or self-repeating the value is (`[x, x]` where `x` is `[y, y]`... doubles with every level);
    a value over the limit then measures somewhat more than `limit`, not its full size.
    """
    return _measured(value, limit)[0]


def _measured(value: Any, limit: int) -> tuple[int, bool]:
    """(the size counted, whether counting stopped before the end)."""
    total, visited = 0, 0
    pending = [value]
    while pending and total <= limit:
        item = pending.pop()
        visited += 1
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() * 3 // 10 + 1  # decimal digits: bits x log10(2)
        elif isinstance(item, float):
            total += 24
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item)  # braces, `: ` and `, `
            pending.extend(islice(chain.from_iterable(item.items()), max(0, limit - total + 1)))
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)  # brackets and `, `
            pending.extend(islice(item, max(0, limit - total + 1)))
        else:
            total += 1  # a date, a contact view: a short text; never iterated (it may be lazy)
    charge(visited)
    return total, bool(pending)


def require_within(what: str, size: int, limit: int = MAX_VALUE_CHARS) -> int:
    """Refuse an operation whose result is estimated at `size` characters, before it runs."""
    if size > limit:
        raise too_big(what, size, limit)
    charge(size // CHARS_PER_STEP)
    return size


def require_small(what: str, value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """Refuse a value that is already there (a result, a value to print) when it is too big."""
    size, stopped = _measured(value, limit)
    if stopped:
        raise TemplateLimitError(f"{what} is longer than the limit of {limit:,} characters")
    if size > limit:
        raise TemplateLimitError(f"{what} is {size:,} characters long; the limit is {limit:,}")
    charge(size // CHARS_PER_STEP)
    return size


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `left <operator> right` when its result would be too big, before computing it."""
    if operator == "*":
        _check_product(left, right)
    elif operator == "**":
        _check_power(left, right)
    elif operator == "+":
        _check_sum(left, right)
    elif operator == "%" and isinstance(left, str):
        require_within("the text formatted with %", printf_size(left, right))


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def _require_bits(what: str, bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise too_big(what, bits, MAX_INT_BITS, unit="bits long")


def _check_product(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        if _is_sequence(sequence) and _is_int(count):
            require_within("repeating a value with `*`", measured_size(sequence) * max(count, 0))
            return
    if _is_int(left) and _is_int(right):
        _require_bits("the product", left.bit_length() + right.bit_length())


def _check_power(base: Any, exponent: Any) -> None:
    # 0, 1 and -1 stay small whatever the power; a negative power gives a float.
    if _is_int(base) and _is_int(exponent) and abs(base) > 1 and exponent > 0:
        if exponent > MAX_INT_BITS:  # over already, and too big to work out in floats
            bits = exponent * (abs(base).bit_length() - 1)
        else:
            bits = math.floor(exponent * math.log2(abs(base))) + 1
        _require_bits("the power", bits)


def _check_sum(left: Any, right: Any) -> None:
    if _is_sequence(left) and _is_sequence(right):
        require_within("joining values with `+`", measured_size(left) + measured_size(right))
    elif _is_int(left) and _is_int(right):
        _require_bits("the sum", max(left.bit_length(), right.bit_length()) + 1)


# One conversion of printf-style formatting: `%s`, `%-10s`, `%(name)08.3f`, `%*d`.
_PRINTF = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def printf_size(template: str, values: Any) -> int:
    """An upper bound of the length of `template % values`: widths and precisions (`%9999s`,
    `%.9999f`) pad the result, so they count."""
    padding, starred = 0, False
    for match in _PRINTF.finditer(template):
        for number in match.groups():
            if number == "*":
                starred = True
            elif number:
                padding += int(number)
    if isinstance(values, Mapping):
        items: tuple[Any, ...] = tuple(values.values())
    else:
        items = values if isinstance(values, tuple) else (values,)
    if starred:  # `%*d` takes the width from the values
        padding += sum(item for item in items if _is_int(item) and item > 0)
    return len(template) + padding + measured_size(items)
