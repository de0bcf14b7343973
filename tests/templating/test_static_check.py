"""`nudge check` reports a template that is over a limit whatever the data, with file and line,
and stays quiet about what only data can decide."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.checks import check_templates
from bot.rendering import Renderer, RenderError
from bot.templating.static_check import limit_problems

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
ENV = ImmutableSandboxedEnvironment()

STATIC = [
    ("{{ 'a' * 10**9 }}", "repeating a value with `*` would be 1,000,000,000 characters"),
    ("{{ ('ab' ~ 'cd') * 10**6 }}", "repeating a value"),
    ("{{ ['x'] * 1000 * 1000 * 1000 }}", "repeating a value"),
    ("{{ 2 ** 10000000000 }}", "the power would be 10,000,000,000 bits long; the limit is 4,096"),
    ("{{ '%1000000000s' % name }}", "the text formatted with % would be"),
    ("{% for i in range(10**6) %}{% endfor %}", "the range would be 1,000,000 numbers"),
    ("{{ range(5, 10**7, 2) | list }}", "the range would be 4,999,998 numbers"),
    ("{{ 'a'.ljust(10**9) }}", "the result of `.ljust()` would be 1,000,000,000 characters"),
    ("{{ name.center(10**9) }}", "the result of `.center()`"),
    ("{{ '{:>1000000000}'.format(name) }}", "the result of `.format()`"),
    ("{{ name | indent(10**9) }}", "the result of `indent`"),
    ("{{ name | center(10**9) }}", "the result of `center`"),
    ("{{ items | batch(10**9, 'x') | list }}", "the result of `batch`"),
    (
        "{% for a in range(100) %}\n{% for b in range(100) %}\n{% for c in range(100) %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        "loops nested here turn 1,000,000 times; the limit is 100,000 steps",
    ),
]


@pytest.mark.parametrize(("source", "says"), STATIC, ids=range(len(STATIC)))
def test_what_is_over_a_limit_whatever_the_data_is_found_without_rendering(
    source: str, says: str
) -> None:
    problems = limit_problems(ENV.parse("Hello\n\n" + source))
    assert len(problems) == 1
    line, reason = problems[0]
    assert says in reason
    assert line == (5 if "loops nested" in says else 3)  # the innermost loop's line


DATA_DECIDES = [
    "{{ name * count }}",
    "{{ 'a' * count }}",
    "{{ count ** 3 }}",
    "{% for i in range(count) %}{% endfor %}",
    "{% for a in items %}{% for b in items %}{% for c in items %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{{ name.ljust(count) }}",
    "{{ items | join(sep) }}",
    "{{ '-' * 20 }} {{ 2 ** 64 }} {{ range(1000) | list | length }} {{ 'a'.ljust(30) }}",
    "{% for a in range(300) %}{% for b in range(300) %}{% endfor %}{% endfor %}",
    "{{ 1 / 0 }} {{ 'a' * 'b' }} {{ [1] * 'b' }}",
]


@pytest.mark.parametrize("source", DATA_DECIDES)
def test_what_depends_on_data_or_is_small_is_left_to_render_time(source: str) -> None:
    assert limit_problems(ENV.parse(source)) == []


def test_the_shipped_templates_are_within_every_limit() -> None:
    renderer = Renderer(TEMPLATES, "en")
    paths = sorted(TEMPLATES.glob("*/*.j2"))
    assert len(paths) > 100
    assert [p for path in paths for p in renderer.limit_problems(path)] == []


def test_nudge_check_reports_the_template_with_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    evil = tmp_path / "en" / "greeting.j2"
    evil.write_text("Hi {{ name }}\n{% for i in range(10**9) %}{{ i }}{% endfor %}\n")
    problems = check_templates(tmp_path, "en")
    assert f"{evil}:2: the range would be 1,000,000,000 numbers; the limit is 1,000" in problems
    # and the render, had it gone out, would have failed the same way
    with pytest.raises(RenderError, match=rf"{evil}:2: the range would be 1,000,000,000 numbers"):
        Renderer(tmp_path, "en").render("greeting", "en", {"name": "Ann"})
