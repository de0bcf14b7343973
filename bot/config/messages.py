"""Turn pydantic's validation errors into short plain sentences."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

_TYPE_MESSAGES = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list, like [a, b]",
    "model_type": "must be a section of `key: value` settings",
    "model_attributes_type": "must be a section of `key: value` settings",
    "dict_type": "must be a section of `key: value` settings",
}
_BOUND_MESSAGES = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "string_too_short": "must be at least {min_length} character(s) long",
    "string_too_long": "must be at most {max_length} character(s) long",
}


def describe_error(error: ErrorDetails) -> str:
    """One plain sentence (without the setting's name) for one pydantic error."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]} ({_got(error['input'], kind == 'string_type')})"
    if kind in _BOUND_MESSAGES:
        return _BOUND_MESSAGES[kind].format(**{k: _number(v) for k, v in ctx.items()})
    if kind == "literal_error":
        expected = ctx.get("expected", "one of the allowed values")
        return f"must be {expected} ({_got(error['input'])})"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "missing":
        return "is required"
    return _sentence(error["msg"])


def unknown_key_message(key: str, known: Iterable[str], what: str = "setting") -> str:
    """`unknown setting 'prot' (did you mean 'port'?)`, or the known names when nothing is close."""
    names = sorted(known)
    close = difflib.get_close_matches(key.lower(), names, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} '{key}' (did you mean '{close[0]}'?)"
    return f"unknown {what} '{key}'; the known ones are: {', '.join(names)}"


def model_at(model: type[BaseModel], loc: Iterable[int | str]) -> type[BaseModel]:
    """The model reached by following `loc` (field names, list indexes, mapping keys) down
    from `model`, so an unknown nested key is compared with its own siblings; `model` itself
    when the way is lost."""
    current: Any = model
    for part in loc:
        if _is_model(current):
            info = current.model_fields.get(str(part))
            current = info.annotation if info is not None else None
        elif get_origin(current) in (list, dict):
            current = get_args(current)[-1]  # the item type, or a mapping's value type
        else:
            return model
        # `X | None` -> X (Optional sections and items)
        args = [arg for arg in get_args(current) if arg is not type(None)]
        if get_origin(current) not in (list, dict) and len(args) == 1:
            current = args[0]
    return current if _is_model(current) else model


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def show_value(value: Any) -> str:
    """A value as a person would write it in YAML."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _got(value: Any, wants_text: bool = False) -> str:
    got = f"got {show_value(value)}"
    if wants_text and isinstance(value, bool | int | float):
        got += "; put it in quotes if you meant it as text"
    return got


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sentence(text: str) -> str:
    return text[:1].lower() + text[1:]
