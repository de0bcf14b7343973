"""Every survey of a `surveys/` folder, loaded and checked, and the library that reloads them.

A survey with an error is left out (it must not ask half-understood questions); a file that
breaks after an edit keeps its previous version in use, like the funnels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.config.yaml_tree import YamlPath
from bot.domain.model import Contact
from bot.funnel.reader import Problem, make_problem, sort_problems
from bot.reloading import FilesStamp, files_stamp, kept_on_error
from bot.rendering import TEMPLATE_SUFFIX, Renderer, RenderError
from bot.surveys.loader import LoadedSurvey, load_survey_file
from bot.surveys.model import TEXT_VARIABLES, Survey, SurveyText

log = logging.getLogger(__name__)

_SAMPLE_CONTEXT = {"name": "Ann", "contact": Contact(1, "Ann", "en"), "agent": "Alice"}
_TEXT_KEYS = ("question", "thanks", "follow_up", "already_answered")


@dataclass(frozen=True)
class SurveyCatalog:
    surveys: tuple[Survey, ...]
    problems: tuple[Problem, ...] = ()
    rejected: tuple[str, ...] = ()  # files left out because of an error

    def __iter__(self) -> Iterator[Survey]:
        return iter(self.surveys)

    def __len__(self) -> int:
        return len(self.surveys)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def get(self, survey_id: str) -> Survey | None:
        return next((s for s in self.surveys if s.id == survey_id), None)


def survey_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_surveys(folder: Path, renderer: Renderer | None) -> SurveyCatalog:
    """Load and check every survey in `folder` (texts are checked when `renderer` is given).
    A missing folder is an empty catalog: surveys are optional."""
    if not folder.is_dir():
        return SurveyCatalog(())
    loaded = [load_survey_file(path, _shown(path)) for path in survey_files(folder)]
    for item in loaded:
        if item.survey is not None and renderer is not None:
            item.problems.extend(lint_texts(item, item.survey, renderer))
    _duplicate_ids(loaded)
    usable, rejected, problems = [], [], []
    for item in loaded:
        problems.extend(item.problems)
        if item.survey is not None and not any(p.severity == "error" for p in item.problems):
            usable.append(item.survey)
        else:
            rejected.append(item.path)
    return SurveyCatalog(tuple(usable), tuple(sort_problems(problems)), tuple(rejected))


def lint_texts(loaded: LoadedSurvey, survey: Survey, renderer: Renderer) -> list[Problem]:
    """Each text must render: inline ones with the variables surveys get, templates must exist
    in the default language and use no other variables."""
    default = renderer.languages_for(None)[0]
    found: list[Problem] = []
    for key in _TEXT_KEYS:
        text: SurveyText | None = getattr(survey, key)
        if text is None:
            continue
        if text.template is not None:
            found += _template_problems(loaded, (key,), text.template, renderer, default)
            continue
        if default not in text.by_language:
            message = f"needs a text in `{default}`: other languages fall back to it"
            found.append(_problem(loaded, (key,), message))
        for language, source in text.by_language.items():
            try:
                renderer.render_string(source, _SAMPLE_CONTEXT)
            except RenderError as exc:
                found.append(_problem(loaded, (key, language), _why(exc)))
    return found


def _template_problems(
    loaded: LoadedSurvey, at: YamlPath, name: str, renderer: Renderer, default: str
) -> list[Problem]:
    folder = renderer.templates_dir
    if not (folder / default / f"{name}{TEMPLATE_SUFFIX}").is_file():
        return [_problem(loaded, at, f"no template `{name}` in {folder / default}")]
    found = []
    for path in sorted(folder.glob(f"*/{name}{TEMPLATE_SUFFIX}")):
        try:
            unknown = renderer.variables_of(path) - set(TEXT_VARIABLES)
        except RenderError as exc:
            found.append(_problem(loaded, at, str(exc)))
            continue
        found += [
            _problem(loaded, at, f"{path} uses `{v}`; surveys give {', '.join(TEXT_VARIABLES)}")
            for v in sorted(unknown)
        ]
    return found


def _why(exc: RenderError) -> str:
    message = str(exc)
    # render_string prefixes the whole source; the position already says which text it is.
    return message.split(": ", 1)[1] if message.startswith("'") and ": " in message else message


def _problem(loaded: LoadedSurvey, at: YamlPath, message: str) -> Problem:
    return make_problem(loaded.path, loaded.marks, at, message)


def _duplicate_ids(loaded: list[LoadedSurvey]) -> None:
    first: dict[str, str] = {}
    for item in loaded:
        if item.survey is None:
            continue
        if item.survey.id in first:
            message = f"the survey id `{item.survey.id}` is already used by {first[item.survey.id]}"
            item.problems.append(_problem(item, ("id",), message))
        first.setdefault(item.survey.id, item.path)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class SurveyLibrary:
    """The surveys in use, reloaded when their files change (`refresh` from a timer)."""

    def __init__(self, folder: Path, renderer: Renderer | None) -> None:
        self.folder = folder
        self._renderer = renderer
        self._catalog = SurveyCatalog(())
        self._stamp: FilesStamp | None = None

    def current(self) -> SurveyCatalog:
        return self._catalog

    def refresh(self) -> bool:
        """Reload when a file was added, changed or removed; True when it reloaded."""
        stamp = self._files_stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        fresh = load_surveys(self.folder, self._renderer)
        for problem in fresh.errors:
            log.warning("survey not (re)loaded: %s", problem)
        kept = kept_on_error(self._catalog.surveys, fresh.surveys, fresh.rejected)
        self._catalog = SurveyCatalog(fresh.surveys + kept, fresh.problems, fresh.rejected)
        log.info(
            "surveys from %s: %s", self.folder, ", ".join(s.id for s in self._catalog) or "none"
        )
        return True

    def _files_stamp(self) -> FilesStamp:
        return files_stamp(survey_files(self.folder)) if self.folder.is_dir() else ()
