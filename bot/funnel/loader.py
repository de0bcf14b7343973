"""Read a funnel file (YAML) into the model, with a file:line:column problem for everything
that cannot be used. Cross-checks (templates, step targets, reachability) are `lint.py`'s."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.yaml_tree import NodeMarks, YamlPath
from bot.funnel.durations import DurationError, parse_time_of_day
from bot.funnel.model import (
    CONVERSATION_STATUSES,
    DEFAULT_MAX_DELAY,
    ApiTrigger,
    EventTrigger,
    ExitWhen,
    Funnel,
    KeywordTrigger,
    QuietHours,
    QuietTrigger,
    ReentryPolicy,
    StalledTrigger,
    TagAddedTrigger,
    Trigger,
)
from bot.funnel.reader import ID_PATTERN, Problem, Reader, Severity, make_problem, yes_no
from bot.funnel.step_loader import read_steps
from bot.funnel.yaml_file import file_text, open_yaml

TOP_KEYS = (
    "id", "name", "description", "trigger", "audience", "reentry", "exit_when", "quiet_hours",
    "timezone", "marketing", "max_delay", "variables", "steps",
)  # fmt: skip
T = TypeVar("T")
TRIGGER_KINDS = ("event", "stalled", "quiet", "keyword", "tag_added", "api")
EXIT_WORDS = ("replied", "handed_off", "opted_out")

FUNNEL_SHAPE = "a funnel file is a mapping: `id:`, `trigger:`, `steps:` and so on"


@dataclass
class LoadedFunnel:
    """A funnel file as read: the funnel (None when it could not be built), where every value
    sits in the file (for the linter's positions), and the problems found so far."""

    path: str
    funnel: Funnel | None
    marks: Mapping[YamlPath, NodeMarks] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def problem(
        self, at: YamlPath, message: str, *, at_key: bool = False, severity: Severity = "error"
    ) -> Problem:
        """A problem at the value (or key) of `at` in this file."""
        return make_problem(self.path, self.marks, at, message, at_key, severity)


def load_funnel_file(path: Path, shown_as: str | None = None) -> LoadedFunnel:
    """Read `path`; problems name the file as `shown_as` (default: `path` as given)."""
    name = shown_as or str(path)
    text = file_text(path, name)
    if isinstance(text, Problem):
        return LoadedFunnel(name, None, problems=[text])
    return load_funnel_text(text, name, source=path)


def load_funnel_text(text: str, shown_as: str, source: Path | None = None) -> LoadedFunnel:
    opened = open_yaml(text, shown_as, FUNNEL_SHAPE)
    if isinstance(opened, Problem):
        return LoadedFunnel(shown_as, None, problems=[opened])
    funnel = _read_funnel(opened.reader, opened.data, source) if opened.readable else None
    return LoadedFunnel(shown_as, funnel, opened.marks, opened.reader.problems)


def _read_funnel(reader: Reader, data: dict[str, Any], source: Path | None) -> Funnel | None:
    reader.mapping(data, (), TOP_KEYS, "a funnel file")
    for key in ("id", "trigger", "steps"):
        if key not in data:
            reader.problem(
                (), f"`{key}:` is missing: every funnel needs an id, a trigger and steps"
            )
    funnel_id = reader.ident(data["id"], ("id",), "the funnel's id") if "id" in data else None
    trigger = _trigger(reader, data["trigger"]) if "trigger" in data else None
    steps = read_steps(reader, data["steps"]) if "steps" in data else None
    optional = _optional(reader, data)
    if funnel_id is None or trigger is None or steps is None or optional is None:
        return None
    return Funnel(id=funnel_id, trigger=trigger, steps=steps, source=source, **optional)


def _optional(reader: Reader, data: dict[str, Any]) -> dict[str, Any] | None:
    """The optional top-level fields; None when any of them is unusable."""
    readers: dict[str, Callable[[Any, YamlPath], Any]] = {
        "name": lambda v, at: reader.text(v, at, "a name"),
        "description": lambda v, at: reader.text(v, at, "a description"),
        "audience": reader.condition,
        "reentry": lambda v, at: _reentry(reader, v, at),
        "exit_when": lambda v, at: _exits(reader, v, at),
        "quiet_hours": lambda v, at: _quiet_hours(reader, v, at),
        "timezone": lambda v, at: _timezone(reader, v, at),
        "marketing": reader.flag,
        "max_delay": reader.duration,
        "variables": lambda v, at: _variables(reader, v, at),
    }
    found: dict[str, Any] = {}
    ok = True
    for key, read in readers.items():
        if key in data:
            found[key] = read(data[key], (key,))
            ok = ok and found[key] is not None
    found.setdefault("max_delay", DEFAULT_MAX_DELAY)
    return found if ok else None


def _trigger(reader: Reader, value: Any) -> Trigger | None:
    at: YamlPath = ("trigger",)
    data = reader.mapping(value, at, (*TRIGGER_KINDS, "where"), "the trigger")
    if data is None:
        return None
    kinds = [k for k in TRIGGER_KINDS if k in data]
    if len(kinds) != 1:
        reader.problem(at, f"say exactly one kind of trigger: {', '.join(TRIGGER_KINDS)}")
        return None
    kind, inner = kinds[0], data[kinds[0]]
    if "where" in data and kind != "event":
        reader.problem((*at, "where"), "`where` filters event data: use `audience:` instead")
        return None
    if kind == "event":
        name = reader.text(inner, (*at, "event"), "an event name")
        where = reader.condition(data["where"], (*at, "where")) if "where" in data else None
        bad_where = "where" in data and where is None
        return EventTrigger(name, where) if name is not None and not bad_where else None
    if kind == "keyword":
        words = reader.texts(inner, (*at, kind), "a word or /command")
        return KeywordTrigger(tuple(w.lower() for w in words)) if words else None
    if kind == "tag_added":
        tag = reader.text(inner, (*at, kind), "a tag")
        return TagAddedTrigger(tag) if tag else None
    if kind == "api":
        return ApiTrigger() if inner in (True, None) else _bad(reader, (*at, kind), "`api: true`")
    return _timed_trigger(reader, kind, inner, (*at, kind))


def _timed_trigger(reader: Reader, kind: str, value: Any, at: YamlPath) -> Trigger | None:
    known = ("after", "status", "unanswered_question") if kind == "stalled" else ("after", "of")
    data = reader.mapping(value, at, known, f"`{kind}`")
    if data is None:
        return None
    if "after" not in data:
        return _bad(reader, at, "`after:` (a duration like 1d)")
    after = reader.duration(data["after"], (*at, "after"))
    if kind == "quiet":
        of = data.get("of", "message")
        if of not in ("message", "purchase"):
            return _bad(reader, (*at, "of"), "`of: message` or `of: purchase`")
        return QuietTrigger(after, of) if after else None
    status = data.get("status")
    if status is not None and status not in CONVERSATION_STATUSES:
        return _bad(reader, (*at, "status"), f"a status: {', '.join(CONVERSATION_STATUSES)}")
    unanswered = reader.flag(data.get("unanswered_question", False), (*at, "unanswered_question"))
    if after is None or unanswered is None:
        return None
    return StalledTrigger(after, status, unanswered)


def _reentry(reader: Reader, value: Any, at: YamlPath) -> ReentryPolicy | None:
    if value in ("once", "always"):
        return ReentryPolicy(value)
    if isinstance(value, dict) and reader.mapping(value, at, ("once_per",)) and "once_per" in value:
        period = reader.duration(value["once_per"], (*at, "once_per"))
        return ReentryPolicy("once_per", period) if period else None
    return _bad(reader, at, "`once`, `always` or `{once_per: 30d}`")


def _exits(reader: Reader, value: Any, at: YamlPath) -> tuple[ExitWhen, ...] | None:
    if not isinstance(value, list):
        return _bad(reader, at, "a list, like `[replied, {event: order_paid}]`")
    found: list[ExitWhen | None] = []
    for index, item in enumerate(value):
        where = (*at, index)
        if item in EXIT_WORDS:
            found.append(ExitWhen(item))
        elif isinstance(item, dict) and len(item) == 1 and next(iter(item)) in ("event", "button"):
            kind = next(iter(item))
            text = reader.text(yes_no(item[kind]), (*where, kind), f"the {kind}'s name or value")
            found.append(ExitWhen(kind, text) if text else None)
        else:
            words = ", ".join(EXIT_WORDS)
            found.append(
                _bad(reader, where, f"one of {words}, `{{event: name}}`, `{{button: value}}`")
            )
    return tuple(e for e in found if e is not None) if None not in found else None


def _quiet_hours(reader: Reader, value: Any, at: YamlPath) -> QuietHours | None:
    data = reader.mapping(value, at, ("from", "to", "timezone"), "`quiet_hours`")
    if data is None:
        return None
    if "from" not in data or "to" not in data:
        return _bad(reader, at, 'both `from:` and `to:`, like from: "21:00", to: "09:00"')
    start = reader.convert(parse_time_of_day, DurationError, data["from"], (*at, "from"))
    end = reader.convert(parse_time_of_day, DurationError, data["to"], (*at, "to"))
    zone = _timezone(reader, data["timezone"], (*at, "timezone")) if "timezone" in data else None
    if start is None or end is None or ("timezone" in data and zone is None):
        return None
    if start == end:
        return _bad(reader, at, "`from` and `to` that differ")
    return QuietHours(start, end, zone)


def _timezone(reader: Reader, value: Any, at: YamlPath) -> str | None:
    name = reader.text(value, at, "a time zone like Europe/Chisinau")
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        reader.problem(at, f"`{name}` is not a time zone: write one like Europe/Chisinau or UTC")
        return None
    return name


def _variables(reader: Reader, value: Any, at: YamlPath) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return _bad(reader, at, "a mapping of names to values")
    for key in value:
        if not key.isidentifier() or key.startswith("_"):
            reader.problem((*at, key), f"`{key}` must be a name like discount_percent", at_key=True)
            return None
    return value


def _bad(reader: Reader, at: YamlPath, expected: str, nothing: T | None = None) -> T | None:
    """Note that `expected` was expected at `at`; returns None typed as the caller's result."""
    reader.problem(at, f"expected {expected}")
    return nothing


__all__ = ["ID_PATTERN", "LoadedFunnel", "load_funnel_file", "load_funnel_text"]
