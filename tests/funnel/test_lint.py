"""Every lint check, each firing on a broken funnel and staying quiet on a good one."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from bot.funnel.lint import Templates, lint_funnel
from bot.funnel.loader import load_funnel_text
from bot.funnel.reader import Problem
from bot.rendering import Renderer

HEAD = "id: x\ntrigger: {event: e}\nsteps:\n"


@pytest.fixture
def templates(tmp_path: Path) -> Templates:
    for lang, text in (("en", "Hi {{ name }}, {{ event.cart.url }}"), ("ru", "Привет, {{ name }}")):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "funnel_hi.j2").write_text(text)
    (tmp_path / "en" / "funnel_bad_var.j2").write_text("Hi {{ customer.name }}")
    (tmp_path / "ru" / "funnel_only_ru.j2").write_text("Привет")
    (tmp_path / "en" / "funnel_broken.j2").write_text("line one\n{{ name | nosuchfilter }}")
    return Templates(Renderer(tmp_path, "en"))


def lint(steps: str, templates: Templates | None = None, head: str = HEAD) -> list[Problem]:
    loaded = load_funnel_text(head + dedent(steps), "funnels/x.yaml")
    assert loaded.problems == [], [str(p) for p in loaded.problems]
    return lint_funnel(loaded, templates)


def shown(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


GOOD = """\
  - {id: hi, send: funnel_hi, buttons: [{text: Go, url: "{{ event.cart.url }}"}]}
  - {id: pause, wait: 1d}
  - id: ask
    wait_for_reply: 1d
    on_timeout: hi
    answers: {yes: done, other: again}
  - {id: again, if: vars.n > 1, then: done, else: hi}
  - {id: done, end: true}
"""


def test_a_good_funnel_has_no_problems(templates: Templates) -> None:
    assert lint(GOOD, templates) == []


def test_unknown_template(templates: Templates) -> None:
    problems = lint("  - {id: a, send: funnel_nope}\n", templates)
    assert shown(problems) == [
        f"funnels/x.yaml:4:17: steps[0].send: no template `funnel_nope`: "
        f"{templates.folder / 'en' / 'funnel_nope.j2'} does not exist"
    ]


def test_a_template_only_in_another_language_is_unknown(templates: Templates) -> None:
    (problem,) = lint("  - {id: a, send: funnel_only_ru}\n", templates)
    assert "no template `funnel_only_ru`" in problem.message


def test_undefined_template_variable(templates: Templates) -> None:
    (problem,) = lint("  - {id: a, send: funnel_bad_var}\n", templates)
    assert (problem.line, problem.column, problem.field) == (4, 17, "steps[0].send")
    assert "en/funnel_bad_var.j2 uses `customer`, which funnels do not provide" in problem.message


def test_a_template_that_does_not_parse(templates: Templates) -> None:
    (problem,) = lint("  - {id: a, send: funnel_broken}\n", templates)
    assert "does not parse" in problem.message and "nosuchfilter" in problem.message


def test_undefined_variable_in_a_button_url(templates: Templates) -> None:
    steps = '  - {id: a, send: funnel_hi, buttons: [{text: Go, url: "{{ shop.url }}"}]}\n'
    (problem,) = lint(steps, templates)
    assert problem.field == "steps[0].buttons[0].url"
    assert "`shop` is not defined" in problem.message


def test_undefined_variable_in_a_condition() -> None:
    (problem,) = lint("  - {id: a, if: cart.total > 3, then: b}\n  - {id: b, end: true}\n")
    assert (problem.line, problem.column, problem.field) == (4, 15, "steps[0].if")
    assert problem.message.startswith("`cart` is not defined: funnels provide contact, name, event")


def test_undefined_variable_in_audience_and_set() -> None:
    head = "id: x\ntrigger: {event: e}\naudience: customer.vip\nsteps:\n"
    problems = lint("  - {id: a, set: {b: '{{ total * 2 }}', c: 'total'}}\n", head=head)
    assert [(p.field, p.message.split(":")[0]) for p in problems] == [
        ("audience", "`customer` is not defined"),
        ("steps[0].set.b", "`total` is not defined"),
    ]


def test_a_where_filter_may_use_the_event_data_keys() -> None:
    head = "id: x\ntrigger: {event: e, where: cart.total > 3}\nsteps:\n"
    assert lint("  - {id: a, tag: t}\n", head=head) == []


def test_unknown_step_targets() -> None:
    steps = """\
      - {id: a, if: vars.x, then: nowhere, else: b, next: gone}
      - id: b
        wait_for_reply: 1h
        on_timeout: lost
        answers: {yes: c, no: missing}
      - {id: c, coupon: pool, on_empty: void}
      - {id: d, split: [{name: p, goto: c}, {name: q, goto: absent}]}
      - {id: e, goto: nothing}
    """
    problems = lint(steps)
    unknown = [(p.field, p.line, p.column) for p in problems if "there is no step" in p.message]
    assert unknown == [
        ("steps[0].next", 4, 53), ("steps[0].then", 4, 29),
        ("steps[1].on_timeout", 7, 15), ("steps[1].answers.no", 8, 25),
        ("steps[2].on_empty", 9, 35),
        ("steps[3].split[1].goto", 10, 55),
        ("steps[4].goto", 11, 17),
    ]  # fmt: skip
    assert "there is no step `nowhere` in this funnel" in shown(problems)[1]


def test_duplicate_step_ids() -> None:
    problems = lint(
        "- {id: a, tag: t}\n- {id: b, tag: t, next: c}\n- {id: a, tag: u}\n- {id: c, end: true}\n"
    )
    assert shown(problems) == [
        "funnels/x.yaml:6:8: steps[2].id: the step id `a` is used twice (first on line 4): "
        "ids must be unique"
    ]


def test_unreachable_steps() -> None:
    steps = (
        "- {id: a, tag: t, next: c}\n- {id: b, tag: t}\n- {id: c, end: true}\n- {id: d, tag: t}\n"
    )
    problems = lint(steps)
    assert shown(problems) == [
        "funnels/x.yaml:5:8: steps[1].id: no path leads to the step `b`: it can never run",
        "funnels/x.yaml:7:8: steps[3].id: no path leads to the step `d`: it can never run",
    ]


def test_a_step_reached_only_through_a_branch_is_reachable() -> None:
    steps = (
        "- {id: a, if: vars.x, then: c, else: d}\n- {id: b, tag: t}\n"
        "- {id: c, end: true}\n- {id: d, goto: b}\n"
    )
    assert lint(steps) == []


def test_a_loop_with_no_wait() -> None:
    steps = (
        "  - {id: a, tag: t}\n  - {id: b, if: vars.x, then: a, else: c}\n  - {id: c, end: true}\n"
    )
    (problem,) = lint(steps)
    assert str(problem) == (
        "funnels/x.yaml:4:8: steps[0].id: the steps a → b → a form a loop with no wait: "
        "a contact would go round it forever"
    )


def test_a_step_that_goes_to_itself() -> None:
    (problem,) = lint("  - {id: a, goto: a}\n")
    assert "the steps a → a form a loop with no wait" in problem.message


@pytest.mark.parametrize(
    "waiting",
    ["{id: w, wait: 1d}", "{id: w, wait_for_reply: 1d, answers: {other: c}, on_timeout: a}"],
)
def test_a_loop_through_a_wait_is_fine(waiting: str) -> None:
    steps = f"  - {{id: a, tag: t}}\n  - {waiting}\n  - {{id: c, goto: a}}\n"
    assert lint(steps) == []


def test_lint_without_templates_skips_template_checks() -> None:
    assert lint("  - {id: a, send: funnel_nope}\n", None) == []
