"""Template sandbox: what a template (a file, a funnel's button URL or `set:`) or a contact's
data can reach. Every escape attempt ends in a RenderError naming the file and line, or in the
attempt printed as plain text; never in Python internals."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.funnel import EnrollmentStatus
from bot.domain.model import Contact
from bot.funnel.context import ContactView, funnel_context, render_button_url
from bot.funnel.engine import new_enrollment
from bot.funnel.loader import load_funnel_text
from bot.rendering import Renderer, RenderError

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ range.__self__ }}",
    "{{ name.__class__ }}",
    "{{ contact.__class__.__init__.__globals__ }}",
    "{{ contact.attributes.__class__ }}",
    "{{ contact | attr('__class__') }}",
    "{{ contact['__class__'] }}",
    "{{ self.__init__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ contact.attributes.update({'vip': true}) }}",
    "{% set _ = contact.attributes.pop('tags') %}",
    "{{ contact.attributes.tags.append('hacked') }}",
    "{{ config }}",
    "{{ request }}",
]


def renderer_with(tmp_path: Path, source: str) -> Renderer:
    (tmp_path / "en").mkdir(exist_ok=True)
    (tmp_path / "en" / "evil.j2").write_text("Hello\n" + source + "\n")
    return Renderer(tmp_path, "en")


def context() -> dict[str, object]:
    attributes = {"tags": ["vip"], "nested": {"deep": [1, {"x": "y"}]}}
    contact = Contact(7, "Ann", "en", attributes=attributes)
    return {"name": "Ann", "contact": contact}


@pytest.mark.parametrize("source", ESCAPES)
def test_template_files_cannot_reach_python_internals(tmp_path: Path, source: str) -> None:
    renderer = renderer_with(tmp_path, source)
    data = context()
    with pytest.raises(RenderError) as refused:
        renderer.render("evil", "en", data)
    assert f"{tmp_path / 'en' / 'evil.j2'}:2" in str(refused.value)  # file:line of the attempt
    contact = data["contact"]
    assert isinstance(contact, Contact)
    assert contact.attributes == {"tags": ["vip"], "nested": {"deep": [1, {"x": "y"}]}}


@pytest.mark.parametrize("source", ESCAPES)
def test_template_syntax_in_contact_fields_is_printed_not_run(source: str) -> None:
    """A customer who calls themselves `{{ ''.__class__ }}` gets their name shown back."""
    renderer = Renderer(TEMPLATES, "en")
    hostile = Contact(7, source, "en", attributes={"city": source, "tags": [source]})
    text = renderer.render("greeting", "en", {"name": source, "contact": hostile})
    assert "<class" not in text and "function" not in text.lower()
    escaped = source.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert source in text or escaped.replace("'", "&#39;") in text


FUNNEL = """
id: evil
trigger: {{event: go}}
steps:
  - id: hello
    send: funnel_welcome_hello
    buttons:
      - {{text: Open, url: "{url}"}}
"""


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.test/{{ ''.__class__.__mro__ }}",
        "https://shop.test/{{ cycler.__init__.__globals__ }}",
        "https://shop.test/{{ contact.__class__ }}",
    ],
)
def test_funnel_button_urls_cannot_reach_python_internals(url: str) -> None:
    loaded = load_funnel_text(textwrap.dedent(FUNNEL.format(url=url)), "evil.yaml")
    if loaded.funnel is None:  # refused by the linter, with where and why
        assert any("evil.yaml:" in str(problem) for problem in loaded.problems)
        return
    funnel = loaded.funnel
    enrollment = new_enrollment(funnel, 7, {"type": "go"}, _now())
    data = funnel_context(ContactView(7, "Ann"), funnel, enrollment)
    button = funnel.steps[0].buttons[0]  # type: ignore[union-attr]
    with pytest.raises(RenderError):
        render_button_url(Renderer(TEMPLATES, "en"), button, data)


@pytest.mark.parametrize(
    "expression",
    ["{{ contact.__class__ }}", "{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}"],
)
def test_funnel_set_values_cannot_reach_python_internals(expression: str) -> None:
    text = f'id: x\ntrigger: {{event: go}}\nsteps:\n  - {{id: a, set: {{b: "{expression}"}}}}\n'
    loaded = load_funnel_text(text, "evil.yaml")
    assert loaded.funnel is None
    assert [p for p in loaded.problems if "refused" in str(p) and "evil.yaml:4" in str(p)]


def test_event_data_is_data_in_funnel_templates(tmp_path: Path) -> None:
    """A shop's event (or a customer's reply) holding template syntax is printed, not run."""
    renderer = renderer_with(tmp_path, "{{ event.data.note }} / {{ contact.attributes.city }}")
    source = "id: f\ntrigger: {event: go}\nsteps:\n  - {id: a, send: evil}\n"
    loaded = load_funnel_text(source, "f.yaml")
    assert loaded.funnel is not None
    hostile = "{{ cycler.__init__.__globals__ }}"
    enrollment = new_enrollment(loaded.funnel, 7, {"type": "go", "data": {"note": hostile}}, _now())
    view = ContactView(7, "Ann", attributes={"city": "{% for x in range(9) %}x{% endfor %}"})
    text = renderer.render("evil", "en", funnel_context(view, loaded.funnel, enrollment))
    assert text == "Hello\n{{ cycler.__init__.__globals__ }} / {% for x in range(9) %}x{% endfor %}"
    assert enrollment.status is EnrollmentStatus.RUNNING


def _now() -> datetime:
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
