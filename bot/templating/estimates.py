"""How long the result of a filter or a string method can get, worked out before calling it.

Most filters and methods give back at most about what they were given. These few take a width, a
count or a separator that multiplies the text (`"a".ljust(10**9)`, `text | indent(10**6)`,
`items | join(long_separator)`), so their result is bounded from their arguments first and the
call is refused when the bound is over the limit. The bounds are generous (an upper bound may be
several times the real length); what matters is that they are never lower than the real one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from string import Formatter
from typing import Any

from bot.templating.limits import MAX_VALUE_CHARS, charge, measured_size, printf_size, too_big

Estimate = Callable[[Any, tuple[Any, ...], Mapping[str, Any]], int]


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name)


def _count(value: Any, default: int = 0) -> int:
    """A width or count argument as a number; anything else is left to the call to refuse."""
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str):  # `indent` accepts a string to indent with
        return len(value)
    return default


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str) else measured_size(value)


def materialized(iterable: Iterable[Any]) -> list[Any]:
    """The items of `iterable` as a list, so that joining them can be sized before it is done."""
    items = list(islice(iter(iterable), MAX_VALUE_CHARS + 1))
    charge(len(items))
    if len(items) > MAX_VALUE_CHARS:
        raise too_big("joining the items", len(items), MAX_VALUE_CHARS, unit="items or more")
    return items


def _padded(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    return max(_length(value), _count(_arg(args, kwargs, 0, "width")))


def _expanded_tabs(text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    return len(text) + text.count("\t") * _count(_arg(args, kwargs, 0, "tabsize"), 8)


def _replaced(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    text = value if isinstance(value, str) else ""
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    if not isinstance(old, str) or not isinstance(new, str):
        return _length(value)
    found = len(text) + 1 if old == "" else text.count(old)
    count = _arg(args, kwargs, 2, "count")
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return _length(value) + found * max(len(new) - len(old), 0)


def _joined(separator: Any, items: list[Any]) -> int:
    return measured_size(items) + len(items) * _length(separator)


def _translated(text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    table = _arg(args, kwargs, 0, "table")
    values = table.values() if isinstance(table, Mapping) else ()
    longest = max((len(v) for v in values if isinstance(v, str)), default=1)
    return len(text) * max(longest, 1)


def brace_format_size(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """An upper bound of `template.format(*args, **kwargs)`: widths in the fields' specs
    (`{:>9999}`) pad the result; a width taken from the values (`{:>{}}`) counts them too."""
    padding, nested = 0, False
    for _literal, _field, spec, _conversion in Formatter().parse(template):
        if spec:
            padding += sum(int(number) for number in re.findall(r"\d+", spec))
            nested = nested or "{" in spec
    values = (*args, *kwargs.values())
    if nested:
        padding += sum(value for value in values if isinstance(value, int) and value > 0)
    return len(template) + padding + measured_size(values)


def _indented(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    lines = value.count("\n") + 1 if isinstance(value, str) else _length(value)
    return _length(value) + lines * _count(_arg(args, kwargs, 0, "width"), 4)


def _wrapped(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    wrapstring = _arg(args, kwargs, 2, "wrapstring")
    # With width 1 every character can end a line, and each line break is the wrapstring.
    return _length(value) * (1 + (len(wrapstring) if isinstance(wrapstring, str) else 1))


def _filled(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """`batch` and `slice`: their count of rows or columns, each padded with `fill_with`."""
    count = _count(_arg(args, kwargs, 0, "linecount" if "linecount" in kwargs else "slices"))
    return count * (1 + measured_size(_arg(args, kwargs, 1, "fill_with")))


def _summed(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    # Summing lists flattens them: the result is as big as everything summed.
    return measured_size(value) + measured_size(_arg(args, kwargs, 1, "start"))


def _as_json(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    return measured_size(value) * (1 + _count(_arg(args, kwargs, 0, "indent")))


def _printf(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    return printf_size(value if isinstance(value, str) else "", dict(kwargs) or args)


def _printed(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """Filters that turn their value into text: a list or dict is as long as it prints."""
    return _length(value)


# Filters whose value is turned into a list before estimating: a lazy iterable has no size.
MATERIALIZED_FILTERS = frozenset({"join", "sum"})

# Keyed by filter name.
FILTER_ESTIMATES: dict[str, Estimate] = {
    "center": _padded,
    "indent": _indented,
    "wordwrap": _wrapped,
    "replace": _replaced,
    "join": lambda items, args, kwargs: _joined(_arg(args, kwargs, 0, "d") or "", items),
    "format": _printf,
    "sum": _summed,
    "batch": _filled,
    "slice": _filled,
    "tojson": _as_json,
    **dict.fromkeys(
        ("string", "pprint", "escape", "e", "forceescape", "safe", "urlencode", "xmlattr",
         "striptags", "upper", "lower", "title", "capitalize", "trim", "truncate", "urlize",
         "wordcount"),
        _printed,
    ),
}  # fmt: skip

# Methods of a string, keyed by name; `join` gets its items already materialized.
STRING_METHOD_ESTIMATES: dict[str, Estimate] = {
    "center": _padded,
    "ljust": _padded,
    "rjust": _padded,
    "zfill": _padded,
    "expandtabs": _expanded_tabs,
    "replace": _replaced,
    "join": lambda separator, args, kwargs: _joined(separator, args[0] if args else []),
    "translate": _translated,
    "format": brace_format_size,
    "format_map": lambda text, args, kwargs: brace_format_size(text, (), args[0] if args else {}),
}
