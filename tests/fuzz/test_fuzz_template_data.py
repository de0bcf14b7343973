"""Fuzzed contact and event data rendered through the sandbox: every shipped template, and
templates that walk the data, print it escaped or fail with a RenderError naming the file;
no other exception, and the data is never evaluated as a template."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from bot.domain.funnel import Enrollment, EnrollmentStatus
from bot.funnel.context import ContactView, funnel_context
from bot.funnel.loader import load_funnel_text
from bot.rendering import Renderer, RenderError
from tests.fuzz.strategies import hostile_text, json_values

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SHIPPED = Renderer(REPO / "templates", "en")
SHIPPED_NAMES = sorted({(p.stem, p.parent.name) for p in (REPO / "templates").glob("*/*.j2")})
FUNNEL = load_funnel_text("id: f\ntrigger: {event: go}\nsteps:\n  - {id: a, send: t}\n", "f")
WALKERS = {
    "fields": "{{ name }} | {{ contact.display_name }} | {{ contact.attributes.city }}",
    "deep": "{{ event.data.cart.items[0].title }} {{ contact.attributes.a.b.c }}",
    "loops": "{% for k, v in contact.attributes.items() %}{{ k }}={{ v }};{% endfor %}"
    "{% for t in contact.tags %}#{{ t }}{% endfor %}",
    "filters": "{{ name | upper | truncate(20) }} {{ event.data | tojson }}"
    " {{ contact.attributes | length }}",
    "default": "{{ contact.attributes.get('city', 'nowhere') }} {{ vars.x | default('-') }}",
}

attributes = st.dictionaries(st.text(max_size=12), json_values, max_size=5)
views = st.builds(
    ContactView,
    id=st.integers(min_value=1, max_value=10**9),
    display_name=hostile_text,
    language=st.sampled_from([None, "en", "ru", "zz", "pt-BR"]),
    tags=st.lists(hostile_text, max_size=3).map(tuple),
    attributes=attributes,
)
events = st.fixed_dictionaries({"type": st.just("go")}, optional={"data": json_values})


def _enrollment(event: dict[str, Any]) -> Enrollment:
    assert FUNNEL.funnel is not None
    return Enrollment(
        id=1, funnel_id="f", contact_id=1, status=EnrollmentStatus.RUNNING, step_id="a",
        due_at=AT, entered_at=AT, updated_at=AT, event=event,
        variables={"vars": {"x": "<i>y</i>"}},
    )  # fmt: skip


@pytest.fixture(scope="module")
def walkers(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    folder = tmp_path_factory.mktemp("walkers")
    (folder / "en").mkdir()
    for name, source in WALKERS.items():
        (folder / "en" / f"{name}.j2").write_text(source)
    return Renderer(folder, "en")


@settings(max_examples=150, deadline=None)
@given(view=views, event=events, which=st.sampled_from(SHIPPED_NAMES))
def test_shipped_templates_render_any_contact_or_say_which_file_failed(
    view: ContactView, event: dict[str, Any], which: tuple[str, str]
) -> None:
    name, language = which
    try:
        text = SHIPPED.render(name, language, _context(view, event))
    except RenderError as exc:
        assert str(REPO / "templates") in str(exc)
        return
    if "<" in view.display_name:
        # Shown escaped, never as markup: the name adds no raw occurrence of itself (counted
        # against a plain name's render: the template's own markup may contain it, as "<b>").
        baseline = SHIPPED.render(
            name, language, _context(replace(view, display_name="Ann"), event)
        )
        assert text.count(view.display_name) <= baseline.count(view.display_name)


def _context(view: ContactView, event: dict[str, Any]) -> dict[str, Any]:
    assert FUNNEL.funnel is not None
    context = funnel_context(view, FUNNEL.funnel, _enrollment(event))
    context.update(agent=view.display_name, coupon="C-1", reply="r", timezone="UTC")
    return context


def test_a_name_that_is_the_templates_own_markup_is_still_escaped() -> None:
    """The case hypothesis found: a contact named "<b>" and a template that prints <b> itself."""
    named, plain = ContactView(1, "<b>"), ContactView(1, "Ann")
    checked = 0
    for name, language in SHIPPED_NAMES:
        try:
            baseline = SHIPPED.render(name, language, _context(plain, {"type": "go"}))
        except RenderError:  # needs data this context lacks (a coupon's code): fuzzed above
            continue
        text = SHIPPED.render(name, language, _context(named, {"type": "go"}))
        assert text.count("<b>") == baseline.count("<b>"), (name, language)
        checked += 1
    assert checked > len(SHIPPED_NAMES) // 2 and ("help", "en") in SHIPPED_NAMES


@settings(max_examples=200, deadline=None)
@given(view=views, event=events, which=st.sampled_from(sorted(WALKERS)))
def test_templates_walking_fuzzed_data_print_it_escaped_or_fail_clearly(
    walkers: Renderer, view: ContactView, event: dict[str, Any], which: str
) -> None:
    assert FUNNEL.funnel is not None
    context = funnel_context(view, FUNNEL.funnel, _enrollment(event))
    try:
        text = walkers.render(which, "en", context)
    except RenderError as exc:
        assert f"{which}.j2" in str(exc)
        return
    if which == "fields":
        assert text.startswith(str(escape(view.display_name)).lstrip())


def test_python_errors_in_templates_are_render_errors_with_the_line(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """What the fuzzing found: data a template did not expect failed with a raw TypeError."""
    folder = tmp_path_factory.mktemp("python_errors")
    (folder / "en").mkdir()
    sources = {
        "tojson": "x\n{{ missing | tojson }}",
        "zero": "x\n{{ 1 / vars.zero }}",
        "round": "x\n{{ name | round }}",
    }
    for name, source in sources.items():
        (folder / "en" / f"{name}.j2").write_text(source)
    renderer = Renderer(folder, "en")
    for name in sources:
        with pytest.raises(RenderError, match=rf"{name}\.j2:2: "):
            renderer.render(name, "en", {"name": "Ann", "vars": {"zero": 0}})
