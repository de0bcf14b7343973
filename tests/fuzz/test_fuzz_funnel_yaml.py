"""Fuzzed funnel files through the loader and the linter (with the shipped templates):
arbitrary YAML text, and the shipped funnels with one part damaged. Either a funnel, or
problems that each name the file and line; never an exception."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.funnel.lint import Templates, lint_funnel
from bot.funnel.loader import load_funnel_text
from bot.rendering import Renderer
from tests.fuzz.strategies import hostile_text, json_values

REPO = Path(__file__).resolve().parents[2]
SHIPPED = {path.name: path.read_text() for path in sorted((REPO / "funnels").glob("*.yaml"))}
TEMPLATES = Templates(Renderer(REPO / "templates", "en"))
NAME = "funnels/fuzzed.yaml"

yaml_words = st.sampled_from(
    ["id:", "trigger:", "steps:", "- ", "  ", "{", "}", "[", "]", ":", "&a", "*a",
     "!!python/object", "<<: *a", "'", '"', "\n", "\t", "---", "...", "send:", "wait: 2h",
     "if:", "{{ x }}", "#", "?",
     "!!binary", "%YAML 1.1", "|", ">", "- id: a", "event: go", "0x1F", "1e400", "~", ".nan"]
)  # fmt: skip
yaml_texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(yaml_words, hostile_text), max_size=40).map("".join),
)


def _check(text: str) -> None:
    loaded = load_funnel_text(text, NAME)
    problems = [*loaded.problems, *lint_funnel(loaded, TEMPLATES)]
    for problem in problems:
        shown = str(problem)
        assert shown.startswith(NAME + ":"), shown  # file:line first, then the sentence
        assert problem.line is not None and problem.line >= 1, shown
        assert problem.message.strip(), shown
    if loaded.funnel is None:
        assert any(p.severity == "error" for p in problems), "refused without saying why"


@settings(max_examples=300, deadline=None)
@given(yaml_texts)
@example("id: a\ntrigger: {event: go}\nsteps:\n  - &s {id: a, send: x}\n  - *s\n")
@example("a: &a [*a]")  # a recursive alias
@example("!!python/object/apply:os.system ['id']")
@example("steps: " + "[" * 200 + "]" * 200)
def test_any_yaml_text_gives_a_funnel_or_problems_with_lines(text: str) -> None:
    _check(text)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*at, index))
    return found


@st.composite
def damaged_funnels(draw: st.DrawFn) -> str:
    """A shipped funnel with one node removed, replaced, duplicated or retyped."""
    data = copy.deepcopy(yaml.safe_load(SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for part in at[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["remove", "replace", "duplicate", "listify", "stringify"]))
        last = at[-1]
        if how == "remove":
            del parent[last]
        elif how == "replace":
            parent[last] = draw(st.one_of(json_values, hostile_text))
        elif how == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif how == "listify":
            parent[last] = [parent[last]]
        else:
            parent[last] = str(parent[last])
        if not data:
            break
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_funnels())
def test_damaged_shipped_funnels_give_problems_with_lines(text: str) -> None:
    _check(text)


def test_the_shipped_funnels_are_clean() -> None:
    """The starting point of the mutations: each shipped funnel loads without errors."""
    for name, text in SHIPPED.items():
        loaded = load_funnel_text(text, name)
        assert loaded.funnel is not None, [str(p) for p in loaded.problems]
