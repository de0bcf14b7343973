"""Reading funnel files: the model built from good files, and exact positions for bad ones."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from bot.funnel.conditions import Expression
from bot.funnel.loader import LoadedFunnel, load_funnel_file, load_funnel_text
from bot.funnel.model import (
    DEFAULT_MAX_DELAY,
    EventTrigger,
    ExitWhen,
    Funnel,
    KeywordTrigger,
    QuietHours,
    QuietTrigger,
    ReentryPolicy,
    StalledTrigger,
    TagAddedTrigger,
)
from bot.funnel.steps import (
    Button,
    CouponStep,
    EndStep,
    GotoStep,
    HandoffStep,
    IfStep,
    SendStep,
    SetStep,
    SplitStep,
    SurveyStep,
    TagStep,
    UntagStep,
    WaitForReplyStep,
    WaitStep,
)

FULL = """\
id: every_kind
name: Every kind
description: One of each step.
trigger:
  event: cart_abandoned
  where: cart.total > 50
audience: contact.language == "ru"
reentry: {once_per: 30d}
exit_when: [replied, handed_off, opted_out, {event: order_paid}, {button: stop}]
quiet_hours: {from: "21:00", to: "09:00", timezone: Europe/Chisinau}
timezone: Europe/Moscow
marketing: false
max_delay: 2h
variables: {discount: 10}
steps:
  - id: hello
    send: funnel_hello
    buttons:
      - {text: Shop, url: "https://x/{{ event.cart.url }}"}
      - {text: {en: "Yes", ru: "Да"}, reply: yes}
      - {text: Not now, snooze: 1d}
  - {id: pause, wait: 2h}
  - {id: morning, wait: {until: "09:30", weekday: [tue, Thursday]}}
  - id: ask
    wait_for_reply: 1d
    on_timeout: bye
    answers: {yes: code, no: bye, date: person, other: person}
  - {id: check, if: vars.discount > 5, then: code, else: bye}
  - {id: mark, tag: [hot, cart]}
  - {id: unmark, untag: cold}
  - {id: remember, set: {stage: hot, total: "{{ event.cart.total }}"}}
  - {id: person, handoff: {team: sales, summary: Wants a discount}, next: bye}
  - {id: poll, survey: csat}
  - {id: code, coupon: cart10, on_empty: bye}
  - {id: jump, goto: ab}
  - id: ab
    split:
      - {name: a, weight: 3, goto: bye}
      - {name: b, goto: done}
  - {id: bye, send: funnel_bye}
  - {id: done, end: true}
"""


def load(text: str) -> LoadedFunnel:
    return load_funnel_text(dedent(text), "funnels/x.yaml")


def funnel_of(text: str) -> Funnel:
    loaded = load(text)
    assert loaded.problems == [], [str(p) for p in loaded.problems]
    assert loaded.funnel is not None
    return loaded.funnel


def test_a_file_with_every_setting_and_step_kind() -> None:
    funnel = funnel_of(FULL)
    assert (funnel.id, funnel.name, funnel.description) == (
        "every_kind",
        "Every kind",
        "One of each step.",
    )
    assert isinstance(funnel.trigger, EventTrigger) and funnel.trigger.name == "cart_abandoned"
    assert funnel.trigger.where is not None and funnel.trigger.where.names == {"cart"}
    assert funnel.audience is not None and funnel.audience.text == 'contact.language == "ru"'
    assert funnel.reentry == ReentryPolicy("once_per", timedelta(days=30))
    assert funnel.exit_when == (
        ExitWhen("replied"), ExitWhen("handed_off"), ExitWhen("opted_out"),
        ExitWhen("event", "order_paid"), ExitWhen("button", "stop"),
    )  # fmt: skip
    assert funnel.quiet_hours == QuietHours(time(21), time(9), "Europe/Chisinau")
    assert (funnel.timezone, funnel.marketing, funnel.max_delay) == (
        "Europe/Moscow",
        False,
        timedelta(hours=2),
    )
    assert funnel.variables == {"discount": 10}
    s = {step.id: step for step in funnel.steps}
    assert s["hello"] == SendStep(id="hello", template="funnel_hello", buttons=(
        Button({"*": "Shop"}, url="https://x/{{ event.cart.url }}"),
        Button({"en": "Yes", "ru": "Да"}, reply="yes"),  # YAML's `yes` is true: read as "yes"
        Button({"*": "Not now"}, snooze=timedelta(days=1)),
    ))  # fmt: skip
    assert s["pause"] == WaitStep(id="pause", duration=timedelta(hours=2))
    assert s["morning"] == WaitStep(id="morning", until=time(9, 30), weekdays=(1, 3))
    assert s["ask"] == WaitForReplyStep(
        id="ask", timeout=timedelta(days=1), on_timeout="bye",
        answers={"yes": "code", "no": "bye", "date": "person", "other": "person"},
    )  # fmt: skip
    assert isinstance(s["check"], IfStep) and (s["check"].then, s["check"].else_) == ("code", "bye")
    assert s["mark"] == TagStep(id="mark", tags=("hot", "cart"))
    assert s["unmark"] == UntagStep(id="unmark", tags=("cold",))
    remember = s["remember"]
    assert isinstance(remember, SetStep) and remember.values["stage"] == "hot"
    total = remember.values["total"]
    assert isinstance(total, Expression) and total.evaluate({"event": {"cart": {"total": 7}}}) == 7
    assert s["person"] == HandoffStep(
        id="person", next="bye", team="sales", summary="Wants a discount"
    )
    assert s["poll"] == SurveyStep(id="poll", survey="csat")
    assert s["code"] == CouponStep(id="code", pool="cart10", on_empty="bye")
    assert s["jump"] == GotoStep(id="jump", target="ab")
    split = s["ab"]
    assert isinstance(split, SplitStep)
    assert [(v.name, v.weight, v.goto) for v in split.variants] == [
        ("a", 3, "bye"), ("b", 1, "done"),
    ]  # fmt: skip
    assert s["done"] == EndStep(id="done")


def test_defaults() -> None:
    funnel = funnel_of("id: x\ntrigger: {api: true}\nsteps:\n  - {id: a, send: t}\n")
    assert funnel.reentry == ReentryPolicy("once")
    assert (funnel.marketing, funnel.max_delay, funnel.max_delay) == (
        True,
        DEFAULT_MAX_DELAY,
        timedelta(hours=6),
    )
    assert (funnel.exit_when, funnel.quiet_hours, funnel.audience, funnel.timezone) == (
        (),
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("{stalled: {after: 1d, status: bot}}", StalledTrigger(timedelta(days=1), "bot")),
        (
            "{stalled: {after: 4h, unanswered_question: true}}",
            StalledTrigger(timedelta(hours=4), None, True),
        ),
        ("{quiet: {after: 60d, of: purchase}}", QuietTrigger(timedelta(days=60), "purchase")),
        ("{keyword: [Promo, /sale]}", KeywordTrigger(("promo", "/sale"))),
        ("{keyword: promo}", KeywordTrigger(("promo",))),
        ("{tag_added: vip}", TagAddedTrigger("vip")),
    ],
)
def test_trigger_kinds(trigger: str, expected: object) -> None:
    assert (
        funnel_of(f"id: x\ntrigger: {trigger}\nsteps:\n  - {{id: a, send: t}}\n").trigger
        == expected
    )


def test_flow_follows_list_order_unless_next_says_otherwise() -> None:
    funnel = funnel_of(FULL)
    assert funnel.next_id("pause") == "morning"
    assert funnel.next_id("person") == "bye"
    assert funnel.next_id("done") is None
    assert funnel.next_id("removed_step") is None
    assert funnel.successors("check") == ("code", "bye")
    assert funnel.successors("ask") == ("code", "bye", "person")
    assert funnel.successors("jump") == ("ab",)
    assert funnel.successors("done") == ()
    assert funnel.successors("mark") == ("unmark",)


def test_load_funnel_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("id: x\ntrigger: {api: true}\nsteps:\n  - {id: a, wait: 2 hours}\n")
    loaded = load_funnel_file(path, "funnels/x.yaml")
    assert [str(p) for p in loaded.problems] == [
        "funnels/x.yaml:4:19: steps[0].wait: `2 hours` is not a duration: write a whole number "
        "and a unit (w, d, h, m, s), like 30m, 2h or 1d12h"
    ]
    assert loaded.funnel is None and load_funnel_file(path).problems[0].path == str(path)


API = "id: x\ntrigger: {api: true}\n"
STEPS = API + "steps:\n"
ONE = "steps:\n  - {id: a, send: t}\n"

ERRORS = [
    (STEPS + "  - {id: a, send: t\n", 5, 1, "", "invalid YAML"),
    ("- a\n- b\n", 1, 1, "", "a funnel file is a mapping"),
    (API + "", 1, 1, "", "`steps:` is missing"),
    (API + "stesp: []\n" + ONE, 3, 1, "stesp", "unknown key `stesp`; did you mean `steps`?"),
    ("id: Bad Id\ntrigger: {api: true}\n" + ONE, 1, 5, "id", "must be made of lowercase"),
    (
        "id: x\ntrigger: {event: e, tag_added: t}\n" + ONE,
        2,
        10,
        "trigger",
        "exactly one kind of trigger",
    ),
    (
        "id: x\ntrigger: {event: e, where: cart.total >}\n" + ONE,
        2,
        28,
        "trigger.where",
        "cannot be read",
    ),
    ("id: x\ntrigger: {event: e, where: x.__class__}\n" + ONE, 2, 28, "trigger.where", "refused"),
    (
        "id: x\ntrigger: {stalled: {after: soon}}\n" + ONE,
        2,
        28,
        "trigger.stalled.after",
        "`soon` is not a duration",
    ),
    (
        API + "quiet_hours: {from: 21:00, to: '09:00'}\n" + ONE,
        3,
        21,
        "quiet_hours.from",
        "put the time in quotes",
    ),
    (API + "reentry: sometimes\n" + ONE, 3, 10, "reentry", "expected `once`, `always`"),
    (API + "timezone: Mars/Olympus\n" + ONE, 3, 11, "timezone", "not a time zone"),
    (
        API + "exit_when: [replied, bought]\n" + ONE,
        3,
        22,
        "exit_when[1]",
        "expected one of replied",
    ),
    (API + "max_delay: 30\n" + ONE, 3, 12, "max_delay", "has no unit"),
    (
        STEPS + "  - {id: a, send: t}\n  - {id: b, send: t, wait: 2h}\n",
        5,
        5,
        "steps[1]",
        "exactly one kind (found 2)",
    ),
    (STEPS + "  - {send: t}\n", 4, 5, "steps[0]", "`id:` is missing"),
    (
        STEPS + "  - {id: a, send: t, tempalte: u}\n",
        4,
        22,
        "steps[0].tempalte",
        "unknown key `tempalte`",
    ),
    (STEPS + "  - {id: a, goto: a, next: b}\n", 4, 22, "steps[0].next", "unknown key `next`"),
    (
        STEPS + "  - id: a\n    wait_for_reply: 1d\n    answers: {maybe: a}\n",
        6,
        15,
        "steps[0].answers.maybe",
        "unknown key `maybe`",
    ),
    (
        STEPS + "  - id: a\n    if: cart.total >> 3\n    then: a\n",
        5,
        9,
        "steps[0].if",
        "cannot be read",
    ),
    (STEPS + "  - id: a\n    if: cart.total > 3\n", 4, 5, "steps[0]", "`then:` is missing"),
    (
        STEPS + "  - {id: a, wait: {until: '9am'}}\n",
        4,
        27,
        "steps[0].wait.until",
        "not a time of day",
    ),
    (
        STEPS + "  - {id: a, wait: {until: '09:00', weekday: funday}}\n",
        4,
        45,
        "steps[0].wait.weekday",
        "not a weekday",
    ),
    (
        STEPS + "  - {id: a, send: t, buttons: [{text: Hi}]}\n",
        4,
        32,
        "steps[0].buttons[0]",
        "exactly one of url, reply, snooze",
    ),
    (
        STEPS + "  - {id: a, send: t, buttons: [{text: Hi, snooze: later}]}\n",
        4,
        51,
        "steps[0].buttons[0].snooze",
        "not a duration",
    ),
    (
        STEPS
        + "  - id: a\n    send: t\n    buttons:\n"
        + "      - text: {en: Yes, please}\n        reply: yes\n",
        7,
        15,
        "steps[0].buttons[0].text",
        "put a label with a comma in quotes",
    ),
    (
        STEPS + "  - {id: a, split: [{name: a, goto: b}]}\n",
        4,
        20,
        "steps[0].split",
        "at least two variants",
    ),
    (
        STEPS + "  - {id: a, set: {__class__: 1}}\n",
        4,
        19,
        "steps[0].set.__class__",
        "must be a name",
    ),
    (STEPS + "  - {id: a, set: {b: '{{ c.__class__ }}'}}\n", 4, 22, "steps[0].set.b", "refused"),
    (
        STEPS + "  - {id: a, send: t}\nsteps:\n  - {id: b, send: t}\n",
        5,
        1,
        "steps",
        "more than once (first on line 3)",
    ),
]


@pytest.mark.parametrize(("text", "line", "column", "field", "says"), ERRORS)
def test_errors_have_exact_positions(
    text: str, line: int, column: int, field: str, says: str
) -> None:
    loaded = load(text)
    matching = [p for p in loaded.problems if says in p.message]
    assert matching, [str(p) for p in loaded.problems]
    problem = matching[0]
    assert (problem.line, problem.column, problem.field) == (line, column, field), str(problem)
    assert problem.severity == "error"
    assert str(problem).startswith(f"funnels/x.yaml:{line}:{column}: ")


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    loaded = load(
        "id: x\ntrigger: {stalled: {after: soon}}\nmax_delay: 30\n"
        "steps:\n  - {id: a, wait: 2 hours}\n"
    )
    assert [(p.line, p.field) for p in loaded.problems] == [
        (2, "trigger.stalled.after"), (5, "steps[0].wait"), (3, "max_delay"),
    ]  # fmt: skip
    assert loaded.funnel is None
