"""The checks `nudge check` runs on each funnel after loading it: unknown templates and step
targets, undefined variables, unreachable steps, duplicate ids, loops with no wait. (Bad
durations, conditions that cannot parse and unknown keys are found by the loader.)"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from bot.config.yaml_tree import YamlPath
from bot.funnel.conditions import ConditionError, Expression, template_variables
from bot.funnel.loader import LoadedFunnel
from bot.funnel.model import (
    CONDITION_VARIABLES,
    TEMPLATE_VARIABLES,
    WAITING_KINDS,
    CouponStep,
    Funnel,
    GotoStep,
    IfStep,
    SendStep,
    SetStep,
    SplitStep,
    Step,
    WaitForReplyStep,
)
from bot.funnel.reader import Problem
from bot.rendering import TEMPLATE_SUFFIX, Renderer, RenderError

__all__ = ["Problem", "Templates", "lint_funnel"]


class Templates:
    """The templates folder as funnels see it, with each file's variables read once."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.folder = renderer.templates_dir
        self.default_language = renderer.languages_for(None)[0]
        self._variables: dict[Path, set[str] | RenderError] = {}

    def files(self, name: str) -> list[Path]:
        """`<lang>/<name>.j2` in every language folder that has it."""
        return sorted(self.folder.glob(f"*/{name}{TEMPLATE_SUFFIX}"))

    def variables(self, path: Path) -> set[str] | RenderError:
        if path not in self._variables:
            try:
                self._variables[path] = self.renderer.variables_of(path)
            except RenderError as exc:
                self._variables[path] = exc
        return self._variables[path]


def lint_funnel(loaded: LoadedFunnel, templates: Templates | None) -> list[Problem]:
    """Every cross-check problem of one loaded funnel (none when it could not be built: the
    loader's problems say why). Without `templates`, templates are not checked."""
    funnel = loaded.funnel
    if funnel is None:
        return []
    found = [
        *_duplicate_ids(loaded, funnel),
        *_unknown_targets(loaded, funnel),
        *_unreachable(loaded, funnel),
        *_loops_without_wait(loaded, funnel),
        *_undefined_in_conditions(loaded, funnel),
    ]
    if templates is not None:
        found += _templates(loaded, funnel, templates)
    return found


def _duplicate_ids(loaded: LoadedFunnel, funnel: Funnel) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for index, step in enumerate(funnel.steps):
        if step.id in first:
            earlier = loaded.marks.get(("steps", first[step.id], "id"))
            where = f" (first on line {earlier.value.line})" if earlier else ""
            message = f"the step id `{step.id}` is used twice{where}: ids must be unique"
            yield loaded.problem(("steps", index, "id"), message)
        first.setdefault(step.id, index)


def references(step: Step, index: int) -> Iterator[tuple[YamlPath, str]]:
    """Each step id `step` names, with where it is written."""
    at: YamlPath = ("steps", index)
    if step.next:
        yield (*at, "next"), step.next
    if isinstance(step, IfStep):
        yield (*at, "then"), step.then
        if step.else_:
            yield (*at, "else"), step.else_
    elif isinstance(step, WaitForReplyStep):
        if step.on_timeout:
            yield (*at, "on_timeout"), step.on_timeout
        for answer, target in step.answers.items():
            yield (*at, "answers", answer), target
    elif isinstance(step, CouponStep) and step.on_empty:
        yield (*at, "on_empty"), step.on_empty
    elif isinstance(step, GotoStep):
        yield (*at, "goto"), step.target
    elif isinstance(step, SplitStep):
        for number, variant in enumerate(step.variants):
            yield (*at, "split", number, "goto"), variant.goto


def _unknown_targets(loaded: LoadedFunnel, funnel: Funnel) -> Iterator[Problem]:
    known = {step.id for step in funnel.steps}
    for index, step in enumerate(funnel.steps):
        for at, target in references(step, index):
            if target not in known:
                yield loaded.problem(at, f"there is no step `{target}` in this funnel")


def _unreachable(loaded: LoadedFunnel, funnel: Funnel) -> Iterator[Problem]:
    if not funnel.steps:
        return
    seen = {funnel.steps[0].id}
    todo = [funnel.steps[0].id]
    while todo:
        for target in funnel.successors(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for index, step in enumerate(funnel.steps):
        if step.id not in seen:
            message = f"no path leads to the step `{step.id}`: it can never run"
            yield loaded.problem(("steps", index, "id"), message)


def _loops_without_wait(loaded: LoadedFunnel, funnel: Funnel) -> Iterator[Problem]:
    """A cycle of steps none of which waits would send (or tag, or branch) endlessly at once."""
    index: dict[str, int] = {}
    for number, step in enumerate(funnel.steps):
        index.setdefault(step.id, number)
    graph = {
        step.id: [t for t in funnel.successors(step.id) if _instant(funnel, t)]
        for step in funnel.steps
        if step.kind not in WAITING_KINDS
    }
    for cycle in _cycles(graph):
        start = min(cycle, key=lambda step_id: index[step_id])
        path = " → ".join([*_walk_order(cycle, start, graph), start])
        message = f"the steps {path} form a loop with no wait: a contact would go round it forever"
        yield loaded.problem(("steps", index[start], "id"), message)


def _instant(funnel: Funnel, step_id: str) -> bool:
    step = funnel.step(step_id)
    return step is not None and step.kind not in WAITING_KINDS


def _cycles(graph: Mapping[str, list[str]]) -> list[set[str]]:
    """The strongly connected parts of `graph` that contain a cycle (Tarjan, iterative)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in order:
            continue
        work = [(root, iter(graph[root]))]
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == order[node]:
                    part = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part.add(member)
                        if member == node:
                            break
                    if len(part) > 1 or node in graph[node]:
                        found.append(part)
            elif child not in order:
                order[child] = low[child] = len(order)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph[child])))
            elif child in on_stack:
                low[node] = min(low[node], order[child])
    return found


def _walk_order(cycle: set[str], start: str, graph: Mapping[str, list[str]]) -> list[str]:
    """The cycle's steps in the order a contact would meet them, from `start`."""
    walked = [start]
    while True:
        following = next((t for t in graph[walked[-1]] if t in cycle and t not in walked), None)
        if following is None:
            return walked
        walked.append(following)


def _undefined_in_conditions(loaded: LoadedFunnel, funnel: Funnel) -> Iterator[Problem]:
    expressions: list[tuple[YamlPath, Expression]] = []
    if funnel.audience is not None:
        expressions.append((("audience",), funnel.audience))
    for index, step in enumerate(funnel.steps):
        if isinstance(step, IfStep):
            expressions.append((("steps", index, "if"), step.condition))
        if isinstance(step, SetStep):
            expressions += [
                (("steps", index, "set", name), value)
                for name, value in step.values.items()
                if isinstance(value, Expression)
            ]
    for at, expression in expressions:
        yield from _unknown_names(loaded, at, expression.names, CONDITION_VARIABLES)


def _unknown_names(
    loaded: LoadedFunnel, at: YamlPath, names: set[str] | frozenset[str], known: Mapping[str, str]
) -> Iterator[Problem]:
    for name in sorted(set(names) - set(known)):
        listed = ", ".join(known)
        message = f"`{name}` is not defined: funnels provide {listed}"
        yield loaded.problem(at, message)


def _templates(loaded: LoadedFunnel, funnel: Funnel, templates: Templates) -> Iterator[Problem]:
    for index, step in enumerate(funnel.steps):
        if not isinstance(step, SendStep):
            continue
        yield from _template(loaded, ("steps", index, "send"), step.template, templates)
        for number, button in enumerate(step.buttons):
            if button.url is not None and "{" in button.url:
                at: YamlPath = ("steps", index, "buttons", number, "url")
                try:
                    names = template_variables(button.url)
                except ConditionError as exc:
                    yield loaded.problem(at, str(exc))
                    continue
                yield from _unknown_names(loaded, at, names, TEMPLATE_VARIABLES)


def _template(
    loaded: LoadedFunnel, at: YamlPath, name: str, templates: Templates
) -> Iterator[Problem]:
    default = templates.default_language
    files = templates.files(name)
    if not any(path.parent.name == default for path in files):
        where = templates.folder / default / f"{name}{TEMPLATE_SUFFIX}"
        yield loaded.problem(at, f"no template `{name}`: {where} does not exist")
    for path in files:
        variables = templates.variables(path)
        if isinstance(variables, RenderError):
            yield loaded.problem(at, f"the template does not parse: {variables}")
            continue
        for variable in sorted(variables - set(TEMPLATE_VARIABLES)):
            message = (
                f"{path.parent.name}/{path.name} uses `{variable}`, which funnels do not "
                f"provide ({', '.join(TEMPLATE_VARIABLES)})"
            )
            yield loaded.problem(at, message)
