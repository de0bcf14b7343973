"""Read a funnel's `steps:` list. Each step is a mapping with an `id` and one key naming its kind,
whose value is the step's main setting (`send: template`, `wait: 2h`, `if: condition`...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.config.yaml_tree import YamlPath
from bot.funnel.conditions import ConditionError, Expression
from bot.funnel.durations import DurationError, parse_time_of_day
from bot.funnel.model import (
    ANSWERS,
    STEP_KINDS,
    Button,
    CouponStep,
    EndStep,
    GotoStep,
    HandoffStep,
    IfStep,
    SendStep,
    SetStep,
    SplitStep,
    SplitVariant,
    Step,
    SurveyStep,
    TagStep,
    UntagStep,
    WaitForReplyStep,
    WaitStep,
)
from bot.funnel.reader import Reader, yes_no

# The keys each kind allows next to `id`, `next` and the kind's own key.
EXTRA_KEYS: dict[str, tuple[str, ...]] = {
    "send": ("buttons",),
    "wait_for_reply": ("on_timeout", "answers"),
    "if": ("then", "else"),
    "coupon": ("on_empty",),
}
NO_NEXT = ("goto", "end", "split")  # these never continue to a following step
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BUTTON_ACTIONS = ("url", "reply", "snooze")

Raw = dict[str, Any]  # a step as written
Next = str | None
StepReader = Callable[[Reader, Raw, YamlPath, str, Next], Step | None]


def read_steps(reader: Reader, value: Any) -> tuple[Step, ...] | None:
    """Every step, or None when any step is unusable (each problem already recorded)."""
    if not isinstance(value, list) or not value:
        reader.problem(("steps",), "a list of steps is expected, each with an `id:`")
        return None
    steps = [_step(reader, item, ("steps", index)) for index, item in enumerate(value)]
    return tuple(s for s in steps if s is not None) if None not in steps else None


def _step(reader: Reader, value: Any, at: YamlPath) -> Step | None:
    if not isinstance(value, dict):
        reader.problem(at, "a step is a mapping with an `id:` and a kind like `send:`")
        return None
    kinds = [key for key in value if key in STEP_KINDS]
    if len(kinds) != 1:
        listed = ", ".join(STEP_KINDS)
        reader.problem(at, f"a step needs exactly one kind (found {len(kinds)}): {listed}")
        return None
    kind = kinds[0]
    allowed = ("id", kind, *EXTRA_KEYS.get(kind, ()), *(() if kind in NO_NEXT else ("next",)))
    reader.mapping(value, at, allowed, "a step")
    if "id" not in value:
        reader.problem(at, "`id:` is missing: every step needs a stable id")
        return None
    step_id = reader.ident(value["id"], (*at, "id"), "the step's id")
    next_id = reader.ident(value["next"], (*at, "next"), "a step id") if "next" in value else None
    if step_id is None or ("next" in value and next_id is None):
        return None
    if any(key not in allowed for key in value):
        return None
    return _READERS[kind](reader, value, at, step_id, next_id)


def _send(
    reader: Reader, v: dict[str, Any], at: YamlPath, sid: str, nxt: str | None
) -> Step | None:
    template = reader.text(v["send"], (*at, "send"), "a template name")
    buttons = _buttons(reader, v.get("buttons", []), (*at, "buttons"))
    if template is None or buttons is None:
        return None
    return SendStep(id=sid, next=nxt, template=template, buttons=buttons)


def _buttons(reader: Reader, value: Any, at: YamlPath) -> tuple[Button, ...] | None:
    if not isinstance(value, list):
        reader.problem(at, "a list of buttons is expected")
        return None
    found = [_button(reader, item, (*at, index)) for index, item in enumerate(value)]
    return tuple(b for b in found if b is not None) if None not in found else None


def _button(reader: Reader, value: Any, at: YamlPath) -> Button | None:
    data = reader.mapping(value, at, ("text", *BUTTON_ACTIONS), "a button")
    if data is None:
        return None
    actions = [key for key in BUTTON_ACTIONS if key in data]
    if "text" not in data or len(actions) != 1:
        reader.problem(at, "a button needs `text:` and exactly one of url, reply, snooze")
        return None
    text = _labels(reader, data["text"], (*at, "text"))
    action, raw = actions[0], data[actions[0]]
    if action == "snooze":
        snooze = reader.duration(raw, (*at, action))
        return Button(text, snooze=snooze) if text and snooze else None
    target = reader.text(yes_no(raw), (*at, action), f"the button's {action}")
    if text is None or target is None:
        return None
    return Button(text, url=target) if action == "url" else Button(text, reply=target)


def _labels(reader: Reader, value: Any, at: YamlPath) -> dict[str, str] | None:
    """One label for every language (`*`), or one per language: `{en: Yes, ru: Да}`."""
    if isinstance(value, str) and value.strip():
        return {"*": value.strip()}
    if isinstance(value, dict) and value:
        if any(label is None for label in value.values()):
            hint = "a comma inside {...} starts a new entry: put a label with a comma in quotes"
            reader.problem(at, f"every language needs a label ({hint})")
            return None
        labels = {lang: reader.text(label, (*at, lang), "a label") for lang, label in value.items()}
        return {k: v for k, v in labels.items() if v} if None not in labels.values() else None
    reader.problem(at, "a label is expected: a text, or one per language like {en: Yes, ru: Да}")
    return None


def _wait(
    reader: Reader, v: dict[str, Any], at: YamlPath, sid: str, nxt: str | None
) -> Step | None:
    at = (*at, "wait")
    if not isinstance(v["wait"], dict):
        duration = reader.duration(v["wait"], at)
        return WaitStep(id=sid, next=nxt, duration=duration) if duration else None
    data = reader.mapping(v["wait"], at, ("until", "weekday"), "`wait`")
    if data is None or "until" not in data:
        reader.problem(at, 'a duration like 2h, or `until: "09:00"` with an optional weekday')
        return None
    until = reader.convert(parse_time_of_day, DurationError, data["until"], (*at, "until"))
    days = _weekdays(reader, data["weekday"], (*at, "weekday")) if "weekday" in data else ()
    if until is None or days is None:
        return None
    return WaitStep(id=sid, next=nxt, until=until, weekdays=days)


def _weekdays(reader: Reader, value: Any, at: YamlPath) -> tuple[int, ...] | None:
    names = reader.texts(value, at, "a weekday")
    if names is None:
        return None
    days = []
    for index, name in enumerate(names):
        matches = [
            i for i, day in enumerate(WEEKDAYS) if len(name) >= 3 and day.startswith(name.lower())
        ]
        if not matches:
            where = at if isinstance(value, str) else (*at, index)
            reader.problem(where, f"`{name}` is not a weekday: write monday, tue, ...")
            return None
        days.append(matches[0])
    return tuple(sorted(set(days)))


def _wait_for_reply(reader: Reader, v: Raw, at: YamlPath, sid: str, nxt: Next) -> Step | None:
    timeout = reader.duration(v["wait_for_reply"], (*at, "wait_for_reply"))
    on_timeout = _target(reader, v, at, "on_timeout")
    answers = _answers(reader, v["answers"], (*at, "answers")) if "answers" in v else {}
    if timeout is None or answers is None or ("on_timeout" in v and on_timeout is None):
        return None
    return WaitForReplyStep(
        id=sid, next=nxt, timeout=timeout, on_timeout=on_timeout, answers=answers
    )


def _answers(reader: Reader, value: Any, at: YamlPath) -> dict[str, str] | None:
    data = reader.mapping(value, at, ANSWERS, "`answers`")
    if data is None:
        return None
    targets = {answer: _target(reader, data, at, answer) for answer in ANSWERS if answer in data}
    if None in targets.values() or len(targets) != len(data):
        return None
    return {answer: target for answer, target in targets.items() if target}


def _if(reader: Reader, v: Raw, at: YamlPath, sid: str, nxt: Next) -> Step | None:
    condition = reader.condition(v["if"], (*at, "if"))
    if "then" not in v:
        reader.problem(at, "`then:` is missing: the step to go to when the condition holds")
        return None
    then, otherwise = _target(reader, v, at, "then"), _target(reader, v, at, "else")
    if condition is None or then is None or ("else" in v and otherwise is None):
        return None
    return IfStep(id=sid, next=nxt, condition=condition, then=then, else_=otherwise)


def _tags(
    reader: Reader, v: dict[str, Any], at: YamlPath, sid: str, nxt: str | None
) -> Step | None:
    kind = "tag" if "tag" in v else "untag"
    tags = reader.texts(v[kind], (*at, kind), "a tag")
    if tags is None:
        return None
    return (
        TagStep(id=sid, next=nxt, tags=tags)
        if kind == "tag"
        else UntagStep(id=sid, next=nxt, tags=tags)
    )


def _set(reader: Reader, v: Raw, at: YamlPath, sid: str, nxt: Next) -> Step | None:
    at = (*at, "set")
    if not isinstance(v["set"], dict) or not v["set"]:
        reader.problem(at, "a mapping of names to values is expected, like {stage: hot}")
        return None
    values: dict[str, Any] = {}
    for name, raw in v["set"].items():
        if not name.isidentifier() or name.startswith("_"):
            reader.problem((*at, name), f"`{name}` must be a name like stage", at_key=True)
            return None
        values[name] = raw
        if isinstance(raw, str) and raw.strip().startswith("{{") and raw.strip().endswith("}}"):
            source = raw.strip()[2:-2].strip()
            values[name] = reader.convert(Expression.parse, ConditionError, source, (*at, name))
            if values[name] is None:
                return None
    return SetStep(id=sid, next=nxt, values=values)


def _handoff(
    reader: Reader, v: dict[str, Any], at: YamlPath, sid: str, nxt: str | None
) -> Step | None:
    value = v["handoff"]
    if value in (None, True):
        return HandoffStep(id=sid, next=nxt)
    data = reader.mapping(value, (*at, "handoff"), ("team", "summary"), "`handoff`")
    if data is None:
        return None
    team = reader.text(data["team"], (*at, "handoff", "team"), "a team") if "team" in data else None
    summary = data.get("summary")
    if summary is not None:
        summary = reader.text(summary, (*at, "handoff", "summary"), "a summary for the agent")
    if ("team" in data and team is None) or ("summary" in data and summary is None):
        return None
    return HandoffStep(id=sid, next=nxt, team=team, summary=summary)


def _simple(
    reader: Reader, v: dict[str, Any], at: YamlPath, sid: str, nxt: str | None
) -> Step | None:
    if "survey" in v:
        survey = reader.ident(v["survey"], (*at, "survey"), "a survey id")
        return SurveyStep(id=sid, next=nxt, survey=survey) if survey else None
    if "coupon" in v:
        pool = reader.ident(v["coupon"], (*at, "coupon"), "a coupon pool id")
        on_empty = _target(reader, v, at, "on_empty")
        if pool is None or ("on_empty" in v and on_empty is None):
            return None
        return CouponStep(id=sid, next=nxt, pool=pool, on_empty=on_empty)
    if "goto" in v:
        target = _target(reader, v, at, "goto")
        return GotoStep(id=sid, target=target) if target else None
    if v["end"] not in (None, True):
        reader.problem((*at, "end"), "write `end: true`")
        return None
    return EndStep(id=sid)


def _split(
    reader: Reader, v: dict[str, Any], at: YamlPath, sid: str, nxt: str | None
) -> Step | None:
    at = (*at, "split")
    if not isinstance(v["split"], list) or len(v["split"]) < 2:
        reader.problem(at, "a list of at least two variants is expected: {name, weight, goto}")
        return None
    variants = [_variant(reader, item, (*at, i)) for i, item in enumerate(v["split"])]
    if None in variants:
        return None
    found = tuple(x for x in variants if x is not None)
    if len({x.name for x in found}) != len(found) or sum(x.weight for x in found) <= 0:
        reader.problem(at, "variants need different names and at least one weight above 0")
        return None
    return SplitStep(id=sid, variants=found)


def _variant(reader: Reader, value: Any, at: YamlPath) -> SplitVariant | None:
    data = reader.mapping(value, at, ("name", "weight", "goto"), "a variant")
    if data is None or any(key not in data for key in ("name", "goto")):
        reader.problem(at, "a variant needs `name:` and `goto:` (and a `weight:`, 1 by default)")
        return None
    name = reader.ident(data["name"], (*at, "name"), "the variant's name")
    target = _target(reader, data, at, "goto")
    weight = data.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
        reader.problem((*at, "weight"), "a whole number, 0 or more, is expected")
        return None
    return SplitVariant(name, weight, target) if name and target else None


def _target(reader: Reader, data: dict[str, Any] | None, at: YamlPath, key: str) -> str | None:
    if not data or key not in data:
        return None
    return reader.ident(data[key], (*at, key), "a step id")


_READERS: dict[str, StepReader] = {
    "send": _send, "wait": _wait, "wait_for_reply": _wait_for_reply, "if": _if,
    "tag": _tags, "untag": _tags, "set": _set, "handoff": _handoff, "survey": _simple,
    "coupon": _simple, "goto": _simple, "end": _simple, "split": _split,
}  # fmt: skip
