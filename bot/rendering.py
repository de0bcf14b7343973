"""The one sandboxed Jinja2 environment every piece of text goes through.

Templates live in `templates/<lang>/<name>.j2` and produce Telegram-style HTML. Autoescaping is on,
so a customer's name like `<b>Bob</b>` or `&amp;` is shown as typed and never becomes markup;
undefined variables raise instead of rendering an empty string; the sandbox refuses access to
unsafe attributes, so a marketer's template cannot reach Python internals; and the limits of
`bot.templating` keep a template, or the data it is given, from eating a worker's memory or time
(`{{ 'a' * 10**9 }}`, nested loops, a flood of output): the render stops with a RenderError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.meta import find_undeclared_variables

from bot.templating.environment import LimitedSandbox, render_limited
from bot.templating.static_check import limit_problems

TEMPLATE_SUFFIX = ".j2"


class RenderError(Exception):
    """A template is missing or failed to render; the message names the template and line."""


# Data a template did not expect fails inside Python, not Jinja: `{{ x | tojson }}` of an
# undefined value, `{{ total / count }}` with a zero count, `{{ a | round }}` of a string. It is
# the same mistake for the marketer, so it gets the same RenderError with the file and line. So
# does a macro (or an include) that calls itself without end: Python stops it at its recursion
# limit, after a few hundred calls.
_RENDER_FAILURES = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    RecursionError,
)


class Renderer:
    """Renders `templates/<lang>/<name>.j2`, falling back to the default language."""

    def __init__(self, templates_dir: Path, default_language: str) -> None:
        self._dir = templates_dir
        self._default = default_language
        self._env = LimitedSandbox(
            loader=ChoiceLoader([FileSystemLoader(str(templates_dir))]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=True,
        )

    @property
    def templates_dir(self) -> Path:
        return self._dir

    def languages_for(self, language: str | None) -> Sequence[str]:
        """The languages to try, in order: the contact's, then the default."""
        primary = (language or "").split("-")[0].lower()
        return [lang for lang in dict.fromkeys([primary, self._default]) if lang]

    def render(self, name: str, language: str | None, context: Mapping[str, Any]) -> str:
        for lang in self.languages_for(language):
            path = f"{lang}/{name}{TEMPLATE_SUFFIX}"
            try:
                template = self._env.get_template(path)
            except TemplateNotFound:
                continue
            except TemplateError as exc:
                raise RenderError(f"{self._dir / path}: {exc}") from exc
            try:
                return render_limited(template, context).strip()
            except _RENDER_FAILURES as exc:
                line = _error_line(exc)
                where = f"{self._dir / path}:{line}" if line else str(self._dir / path)
                raise RenderError(f"{where}: {_reason(exc)}") from exc
        tried = ", ".join(
            f"{lang}/{name}{TEMPLATE_SUFFIX}" for lang in self.languages_for(language)
        )
        raise RenderError(f"no template {name!r} in {self._dir} (tried {tried})")

    def render_string(self, source: str, context: Mapping[str, Any]) -> str:
        """Render an inline template (a funnel button's URL) in the same sandbox."""
        try:
            return render_limited(self._env.from_string(source), context).strip()
        except _RENDER_FAILURES as exc:
            raise RenderError(f"{source!r}: {_reason(exc)}") from exc

    def variables_of(self, path: Path) -> set[str]:
        """The variables a template file needs; raises RenderError (with the line) if it does
        not parse."""
        source = path.read_text(encoding="utf-8")
        try:
            tree = self._env.parse(source, name=path.name, filename=str(path))
            # Compiling also catches unknown filters and tests, which parsing lets through.
            self._env.compile(tree, name=path.name, filename=str(path))
        except TemplateSyntaxError as exc:
            raise RenderError(f"{path}:{exc.lineno}: {exc.message}") from exc
        return set(find_undeclared_variables(tree))

    def limit_problems(self, path: Path) -> list[str]:
        """What would go over a render limit whatever the data (`{{ "a" * 10**9 }}`,
        `range(10**6)`, nested loops over constant ranges), as `file:line: sentence`. A template
        that does not parse has none: `variables_of` reports it."""
        source = path.read_text(encoding="utf-8")
        try:
            tree = self._env.parse(source, name=path.name, filename=str(path))
        except TemplateSyntaxError:
            return []
        return [f"{path}:{line}: {reason}" for line, reason in limit_problems(tree)]


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "macros or includes call themselves too deeply (one without an end?)"
    return str(exc)


def _error_line(exc: Exception) -> int | None:
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    tb = exc.__traceback__
    found: int | None = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(TEMPLATE_SUFFIX):
            found = tb.tb_lineno
        tb = tb.tb_next
    return found
