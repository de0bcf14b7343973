"""Resource exhaustion through templates: a template (or the data it is given) that would make a
worker allocate gigabytes or spin for hours ends in a RenderError naming the file and line.

Each hostile template below needs at least a gigabyte or a billion steps if nothing stops it.
The tests run under a memory cap (the process may grow by 256 MB), so a template that got past the
limits fails here with MemoryError instead of eating the machine's memory; the step budget is what
keeps the spinning ones short, and its exact count is tested in tests/templating.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.model import Contact
from bot.funnel.context import ContactView, funnel_context, render_button_url
from bot.funnel.engine import new_enrollment
from bot.funnel.loader import load_funnel_text
from bot.rendering import Renderer, RenderError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
HEADROOM = 256 * 2**20


def _virtual_memory() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


@pytest.fixture
def memory_cap() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _virtual_memory() + HEADROOM
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# (what it attacks with, the template's line 3, words the RenderError must hold)
HOSTILE = [
    ("string repetition", "{{ 'a' * 10**9 }}", "repeating a value"),
    ("repetition, count first", "{{ 1000000000 * 'ab' }}", "repeating a value"),
    ("list repetition", "{% set x = [0] * 10**9 %}{{ x | length }}", "repeating a value"),
    ("nested repetition", "{{ ['abc'] * 1000 * 1000 * 1000 }}", "repeating a value"),
    ("power", "{{ 2 ** 10000000000 }}", "the power"),
    ("power of powers", "{{ (9 ** 9) ** (9 ** 9) }}", "the power"),
    (
        "repeated squaring",
        "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}"
        "{% endfor %}{{ ns.x }}",
        "the product",
    ),
    ("huge range", "{% for i in range(10**9) %}{% endfor %}", "the range"),
    ("range made into a list", "{{ range(10**9) | list | length }}", "the range"),
    ("range past machine integers", "{{ range(10**30) | length }}", "the range"),
    (
        "nested loops",
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        "steps",
    ),
    (
        "loops nested in a macro",
        "{% macro m() %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}"
        "{% endfor %}{% endmacro %}{% for a in range(1000) %}{{ m() }}{% endfor %}",
        "steps",
    ),
    (
        "output flood",
        "{% for i in range(1000) %}{% for j in range(1000) %}{{ 'x' * 60000 }}{% endfor %}"
        "{% endfor %}",
        "the message",
    ),
    (
        "flood of the template's own text",
        "{% for i in range(1000) %}{% for j in range(99) %}0123456789{% endfor %}{% endfor %}",
        "the message",
    ),
    (
        "flood kept in a set block",
        "{% set kept %}{% for i in range(1000) %}{% for j in range(1000) %}{{ 'x' * 60000 }}"
        "{% endfor %}{% endfor %}{% endset %}-",
        "writes more than",
    ),
    (
        "doubling with ~",
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s | length }}",
        "joining values with `~`",
    ),
    (
        "doubling with +",
        "{% set ns = namespace(s=[1]) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
        "{% endfor %}{{ ns.s | length }}",
        "joining values with `+`",
    ),
    (
        "a list that holds itself twice, printed",
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}"
        "{% endfor %}{{ ns.l }}",
        "a printed value",
    ),
    (
        "the same list, as JSON",
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}"
        "{% endfor %}{{ ns.l | tojson }}",
        "tojson",
    ),
    ("string method width", "{{ 'a'.ljust(10**9) }}", "`.ljust()`"),
    ("zfill", "{{ '1'.zfill(10**9) }}", "`.zfill()`"),
    ("replace with a long text", "{{ ('a' * 60000).replace('a', 'b' * 60000) }}", "`.replace()`"),
    ("format width", "{{ '{:>1000000000}'.format(1) }}", "`.format()`"),
    ("format width from a value", "{{ '{:>{}}'.format(1, 10**9) }}", "`.format()`"),
    ("printf width", "{{ '%1000000000s' % 'a' }}", "formatted with %"),
    ("printf precision", "{{ '%.1000000000f' % 1.5 }}", "formatted with %"),
    ("center filter", "{{ 'a' | center(10**9) }}", "`center`"),
    ("indent filter", "{{ ('a\\n' * 30000) | indent(60000) }}", "`indent`"),
    ("wordwrap filter", "{{ ('a ' * 30000) | wordwrap(1, wrapstring='b' * 60000) }}", "`wordwrap`"),
    ("format filter", "{{ '%1000000000d' | format(1) }}", "`format`"),
    ("batch filled up", "{{ [1] | batch(10**9, 'x') | list | length }}", "`batch`"),
    ("slice filled up", "{{ [1] | slice(10**9, 'x') | list | length }}", "`slice`"),
    ("join separator", "{{ ('a' * 60000) | join('x' * 60000) }}", "`join`"),
    ("tojson indent", "{{ [[1, [2]]] | tojson(indent=10**9) }}", "`tojson`"),
    ("a macro calling itself", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "deep"),
    (
        "a macro doubling its argument",
        "{% macro f(n) %}{{ f(n ~ n) }}{% endmacro %}{{ f('a') }}",
        "joining values with `~`",
    ),
    ("lorem ipsum", "{{ lipsum(n=10**6) }}", "undefined"),
]


def _renderer(folder: Path, source: str) -> Renderer:
    (folder / "en").mkdir(exist_ok=True)
    (folder / "en" / "evil.j2").write_text("Hello {{ name }}\nhow are you?\n" + source + "\n")
    return Renderer(folder, "en")


@pytest.mark.parametrize(("attack", "source", "says"), HOSTILE, ids=[h[0] for h in HOSTILE])
@pytest.mark.usefixtures("memory_cap")
def test_a_hostile_template_fails_fast_naming_its_file_and_line(
    tmp_path: Path, attack: str, source: str, says: str
) -> None:
    renderer = _renderer(tmp_path, source)
    with pytest.raises(RenderError) as refused:
        renderer.render("evil", "en", {"name": "Ann"})
    assert f"{tmp_path / 'en' / 'evil.j2'}:3: " in str(refused.value)
    assert says in str(refused.value)


HUGE_NOTE = "x" * 70_000  # inside a 64 KB event body only just; a whole message's worth and more
DATA_ATTACKS = [
    ("a data string repeated", "{{ note * 100000 }}", "repeating a value"),
    ("a data string printed", "{{ note }}", "a printed value"),
    ("a data string upper-cased", "{{ note | upper }}", "`upper`"),
    ("a data count repeats a text", "{{ '-' * count }}", "repeating a value"),
    ("a data count as a range", "{% for i in range(count) %}.{% endfor %}", "the range"),
    ("a data number raised", "{{ 7 ** count }}", "the power"),
    (
        "a data number squared again and again",
        "{% set ns = namespace(x=big) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}"
        "{% endfor %}{{ ns.x }}",
        "the product",
    ),
    ("a data width", "{{ name.center(count) }}", "`.center()`"),
    (
        "loops over data nested",
        "{% for a in items %}{% for b in items %}{% for c in items %}{% endfor %}{% endfor %}"
        "{% endfor %}",
        "steps",
    ),
    ("data items joined by data", "{{ items | join(name * 40) }}", "`join`"),
    (
        "data searched in nested loops",
        "{% for a in range(1000) %}{% for b in range(1000) %}{% if 'z' in items %}{% endif %}"
        "{% endfor %}{% endfor %}",
        "steps",
    ),
]


@pytest.mark.parametrize(
    ("attack", "source", "says"), DATA_ATTACKS, ids=[d[0] for d in DATA_ATTACKS]
)
@pytest.mark.usefixtures("memory_cap")
def test_hostile_data_in_a_plain_template_fails_fast_naming_its_file_and_line(
    tmp_path: Path, attack: str, source: str, says: str
) -> None:
    renderer = _renderer(tmp_path, source)
    data = {
        "name": "Ann" * 400,
        "note": HUGE_NOTE,
        "count": 10**9,
        "big": 7**100,
        "items": list(range(20_000)),
    }
    with pytest.raises(RenderError) as refused:
        renderer.render("evil", "en", data)
    assert f"{tmp_path / 'en' / 'evil.j2'}:3: " in str(refused.value)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.test/{{ 'a' * 10**9 }}",
        "https://shop.test/{% for i in range(10**9) %}{{ i }}{% endfor %}",
        "https://shop.test/{{ 'a'.ljust(10**9) }}",
        "https://shop.test/{% for i in range(999) %}{% for j in range(999) %}"
        "{% for k in range(999) %}{% endfor %}{% endfor %}{% endfor %}",
    ],
)
@pytest.mark.usefixtures("memory_cap")
def test_a_hostile_button_url_fails_fast(url: str) -> None:
    """Inline templates (a funnel button's URL) render in the same limited sandbox."""
    text = (
        "id: evil\ntrigger: {event: go}\nsteps:\n  - id: hello\n    send: funnel_welcome_hello\n"
        f'    buttons:\n      - {{text: Open, url: "{url}"}}\n'
    )
    loaded = load_funnel_text(text, "evil.yaml")
    assert loaded.funnel is not None, loaded.problems
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    enrollment = new_enrollment(loaded.funnel, 7, {"type": "go"}, at)
    data = funnel_context(ContactView(7, "Ann"), loaded.funnel, enrollment)
    button = loaded.funnel.steps[0].buttons[0]  # type: ignore[union-attr]
    with pytest.raises(RenderError, match="limit"):
        render_button_url(Renderer(TEMPLATES, "en"), button, data)


@pytest.mark.usefixtures("memory_cap")
def test_a_customer_with_a_huge_name_gets_an_error_not_a_stalled_worker() -> None:
    """The shipped greeting, given a 100,000-character name (a shop can set any display name):
    the render stops at the printed value instead of escaping and sending it."""
    name = "<b>" * 33_334
    contact = Contact(7, name, "en")
    with pytest.raises(RenderError) as refused:
        Renderer(TEMPLATES, "en").render("greeting", "en", {"name": name, "contact": contact})
    assert str(TEMPLATES / "en" / "greeting.j2") in str(refused.value)
    assert "a printed value" in str(refused.value)
