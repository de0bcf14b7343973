"""The limited sandbox renders what templates normally do exactly as Jinja2's own sandbox does,
and its limits count exactly: the step budget, the output cap, the range cap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.domain.model import Contact
from bot.rendering import Renderer, RenderError
from bot.templating import limits
from bot.templating.limits import MAX_OUTPUT_CHARS, MAX_RANGE

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "autoescape": select_autoescape(default=True, default_for_string=True),
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": False,
}


def _reference(folder: Path) -> ImmutableSandboxedEnvironment:
    """The environment every message went through before the limits."""
    return ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(folder)), **OPTIONS)


def _contexts() -> Iterator[dict[str, Any]]:
    for opens_day, name in ((0, "Ann"), (1, "<b>Bob</b> & Co"), (4, "Ирина")):
        cart = {"items": [{"title": "Mug"}] * opens_day, "total": 42.5, "currency": "EUR"}
        yield {
            "name": name,
            "contact": Contact(7, name, "en", attributes={"city": "Riga", "tags": ["vip"]}),
            "agent": "Dana",
            "article_language": "English",
            "opens_day": opens_day,
            "opens_time": "09:00",
            "opens_weekday": opens_day,
            "timezone": "Europe/Riga",
            "event": {"cart": cart, "order": {"number": 1042, "total": 99, "currency": "EUR"}},
            "vars": {"booked_day": "Tuesday", "discount_percent": 15, "shop_url": "https://s.t"},
            "coupon": {"code": "WELCOME-15", "pool": "welcome"},
            "reply": {"text": "yes", "answer": "yes"},
        }


SHIPPED = sorted(TEMPLATES.glob("*/*.j2"))


def test_every_shipped_template_renders_as_before() -> None:
    renderer, reference = Renderer(TEMPLATES, "en"), _reference(TEMPLATES)
    compared = 0
    for path in SHIPPED:
        language, name = path.parent.name, path.stem
        for context in _contexts():
            expected = reference.get_template(f"{language}/{path.name}").render(**context)
            assert renderer.render(name, language, context) == expected.strip(), path
            compared += 1
    assert compared == 3 * len(SHIPPED) and len(SHIPPED) > 100


# What templates may do with the limited features, at the sizes messages use.
EVERYDAY = [
    "{{ '-' * 20 }}|{{ 3 * 'ab' }}|{{ [1, 2] * 2 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 6 * 7 }}",
    "{{ '%05.1f' % 3.14159 }}|{{ '%s and %s' % ('a', 'b') }}|{{ '%(x)s' % {'x': 1} }}|{{ 7 % 3 }}",
    "{{ '%s, %s!' | format('Hello', name) }}|{{ '{:,}'.format(1234567) }}|"
    "{{ '{:>8}'.format(name) }}",
    "{{ '{0}-{1}'.format(1, 2) }}|{{ '{a}'.format_map({'a': name}) }}|{{ '{:.2f}'.format(2.5) }}",
    "{{ 'ab' | center(10) }}|{{ 'a\\nb' | indent(2, true) }}|{{ name | wordwrap(3) }}",
    "{{ name.ljust(12, '.') }}|{{ '7'.zfill(3) }}|{{ 'a\\tb'.expandtabs(4) }}|{{ name.upper() }}",
    "{{ 'Hello'.replace('l', 'L') }}|{{ 'Hello' | replace('l', 'L', 1) }}|{{ ', '.join(tags) }}",
    "{{ tags | join(', ') }}|{{ items | join('/', attribute='title') }}|"
    "{{ items | sum(attribute='n') }}",
    "{{ [[1], [2]] | sum(start=[]) }}|{{ range(5) | batch(2, 0) | list }}|"
    "{{ range(5) | slice(2) | list }}",
    "{{ items | tojson }}|{{ items | tojson(indent=2) }}|{{ tags | string }}|{{ items | pprint }}",
    "{{ 'x' ~ 1 ~ none ~ name }}|{{ '<i>' | safe ~ name }}|{{ name ~ '!' }}",
    "{% for i in range(10) %}{{ loop.index }}{% if not loop.last %},{% endif %}{% endfor %}",
    "{% for t in tags if t != 'b' %}{{ t }}{% else %}none{% endfor %}|"
    "{% for x in [] %}x{% else %}-{% endfor %}",
    "{% for i in range(3) %}{{ loop.length }}{{ loop.cycle('a', 'b') }}{% endfor %}",
    "{% for n in tree recursive %}{{ n.name }}({{ loop(n.kids) }}){% endfor %}",
    "{% macro hi(who) %}Hi {{ who }}{% endmacro %}{{ hi(name) }}|"
    "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}{{ name }}{% endcall %}",
    "{% set kept %}{% for t in tags %}[{{ t }}]{% endfor %}{% endset %}{{ kept }}|"
    "{% filter upper %}{{ name }}{% endfilter %}",
    "{{ name | truncate(5) }}|{{ name | title }}|{{ items | length }}|{{ items | first }}|"
    "{{ tags | map('upper') | list }}|{{ items | map(attribute='n') | max }}",
    "{{ {'a': 1}.items() | list }}|{{ ''.join(['a', 'b']) }}|{{ 'a,b'.split(',') }}|{{ 1.5 + 2 }}",
    "{% set ns = namespace(total=0) %}{% for i in items %}{% set ns.total = ns.total + i.n %}"
    "{% endfor %}{{ ns.total }}|{{ 'abc' + 'def' }}|{{ [1] + [2] }}",
]


@pytest.mark.parametrize("source", EVERYDAY)
def test_everyday_template_code_renders_as_in_jinjas_own_sandbox(
    tmp_path: Path, source: str
) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "t.j2").write_text(source)
    context = {
        "name": "<Ann & Bob>",
        "tags": ["a", "b", "c"],
        "items": [{"title": "Mug", "n": 2}, {"title": "Cup", "n": 5}],
        "tree": [{"name": "root", "kids": [{"name": "leaf", "kids": []}]}],
    }
    expected = _reference(tmp_path).get_template("en/t.j2").render(**context).strip()
    assert Renderer(tmp_path, "en").render("t", "en", context) == expected


def _render(tmp_path: Path, source: str, **context: Any) -> str:
    (tmp_path / "en").mkdir(exist_ok=True)
    (tmp_path / "en" / "t.j2").write_text(source)
    return Renderer(tmp_path, "en").render("t", "en", context)


def test_the_step_budget_counts_every_loop_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_STEPS", 50)
    loop = (
        "{% for a in outer %}{% for b in inner %}{% endfor %}{% endfor %}\n"
        "{% for c in tail %}ok{% endfor %}"
    )
    nested = {"outer": list(range(5)), "inner": list(range(9))}
    # 5 outer turns + 5 x 9 inner turns = 50 steps: just within; one turn more is over.
    assert _render(tmp_path, loop, **nested, tail=[]) == ""
    with pytest.raises(RenderError, match=r"t\.j2:2: .*more than the limit of 50 steps"):
        _render(tmp_path, loop, **nested, tail=[1])


def test_each_render_gets_a_fresh_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_STEPS", 50)
    for _ in range(3):
        text = _render(tmp_path, "{% for a in items %}{% endfor %}ok", items=list(range(50)))
        assert text == "ok"


def test_the_output_may_be_exactly_the_cap_and_not_a_character_more(tmp_path: Path) -> None:
    half = "x" * (MAX_OUTPUT_CHARS // 2)
    text = _render(tmp_path, "{{ a }}{{ b }}", a=half, b=half)
    assert len(text) == MAX_OUTPUT_CHARS
    with pytest.raises(RenderError, match=r"t\.j2:1: the message would be 65,537 characters"):
        _render(tmp_path, "{{ a }}{{ b }}", a=half, b=half + "y")


def test_the_output_cap_stops_the_template_while_it_runs(tmp_path: Path) -> None:
    """Rendering stops at the piece that crosses the cap; the rest is never produced."""
    pulled: list[int] = []

    def feed() -> Iterator[str]:
        for number in range(1_000_000):
            pulled.append(number)
            yield "x" * 10_000

    with pytest.raises(RenderError, match=r"t\.j2:2: the message would be"):
        _render(tmp_path, "Hello\n{% for chunk in feed %}{{ chunk }}{% endfor %}", feed=feed())
    assert len(pulled) == MAX_OUTPUT_CHARS // 10_000 + 1


def test_range_gives_at_most_a_thousand_numbers(tmp_path: Path) -> None:
    assert _render(tmp_path, "{{ range(MAX) | list | length }}", MAX=MAX_RANGE) == "1000"
    assert _render(tmp_path, "{{ range(10**12, 10**12 + 3) | list }}") == (
        "[1000000000000, 1000000000001, 1000000000002]"
    )
    with pytest.raises(RenderError, match="the range would be 1,001 numbers; the limit is 1,000"):
        _render(tmp_path, "{{ range(MAX + 1) | list }}", MAX=MAX_RANGE)
    with pytest.raises(RenderError, match="the range would be 1,001 numbers"):
        _render(tmp_path, "{{ range(2000, -2, -2) | list }}")
