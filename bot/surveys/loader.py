"""Read a survey file (YAML) into a `Survey`, with a file:line:column problem for everything
that cannot be used; `catalog.py` adds the cross-checks (templates, duplicate ids)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config.yaml_tree import NodeMarks, YamlPath
from bot.domain.surveys import SurveyKind
from bot.funnel.reader import Problem, Reader
from bot.funnel.yaml_file import file_text, open_yaml
from bot.surveys.model import Survey, SurveyText

TOP_KEYS = (
    "id", "kind", "description", "question", "low_score", "follow_up", "thanks",
    "already_answered", "expiry",
)  # fmt: skip
REQUIRED = ("id", "kind", "question", "thanks")
SURVEY_SHAPE = "a survey file is a mapping: `id:`, `kind:`, `question:` and so on"
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")  # en, ru, pt-br: like templates' folders


@dataclass
class LoadedSurvey:
    """A survey file as read: the survey (None when unusable), positions and problems."""

    path: str
    survey: Survey | None
    marks: Mapping[YamlPath, NodeMarks] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load_survey_file(path: Path, shown_as: str | None = None) -> LoadedSurvey:
    name = shown_as or str(path)
    text = file_text(path, name)
    if isinstance(text, Problem):
        return LoadedSurvey(name, None, problems=[text])
    return load_survey_text(text, name, source=path)


def load_survey_text(text: str, shown_as: str, source: Path | None = None) -> LoadedSurvey:
    opened = open_yaml(text, shown_as, SURVEY_SHAPE)
    if isinstance(opened, Problem):
        return LoadedSurvey(shown_as, None, problems=[opened])
    survey = _read_survey(opened.reader, opened.data, source) if opened.readable else None
    return LoadedSurvey(shown_as, survey, opened.marks, opened.reader.problems)


def _read_survey(reader: Reader, data: dict[str, Any], source: Path | None) -> Survey | None:
    reader.mapping(data, (), TOP_KEYS, "a survey file")
    for key in REQUIRED:
        if key not in data:
            reader.problem((), f"`{key}:` is missing: every survey needs {', '.join(REQUIRED)}")
    survey_id = reader.ident(data["id"], ("id",), "the survey's id") if "id" in data else None
    kind = _kind(reader, data["kind"]) if "kind" in data else None
    question = _text(reader, data["question"], ("question",)) if "question" in data else None
    thanks = _text(reader, data["thanks"], ("thanks",)) if "thanks" in data else None
    optional = {
        key: _text(reader, data[key], (key,)) for key in ("follow_up", "already_answered")
        if key in data
    }  # fmt: skip
    expiry = reader.duration(data["expiry"], ("expiry",)) if "expiry" in data else None
    low = _low_score(reader, data, kind)
    if (
        survey_id is None or kind is None or question is None or thanks is None or low is None
        or None in optional.values() or ("expiry" in data and expiry is None)
    ):  # fmt: skip
        return None
    return Survey(
        id=survey_id, kind=kind, question=question, thanks=thanks, low_score=low,
        follow_up=optional.get("follow_up"), already_answered=optional.get("already_answered"),
        expiry=expiry, source=source,
    )  # fmt: skip


def _kind(reader: Reader, value: Any) -> SurveyKind | None:
    if value in tuple(SurveyKind):
        return SurveyKind(value)
    reader.problem(("kind",), "expected `csat` (scores 1 to 5) or `nps` (scores 0 to 10)")
    return None


def _low_score(reader: Reader, data: dict[str, Any], kind: SurveyKind | None) -> int | None:
    if kind is None:
        return None
    if "low_score" not in data:
        return kind.default_low_score
    value = data["low_score"]
    allowed = range(kind.scores.start, kind.scores.stop - 1)  # the top score is never low
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        reader.problem(
            ("low_score",),
            f"expected a whole number from {allowed.start} to {allowed.stop - 1}: scores at or"
            f" below it are low (the default for {kind.value} is {kind.default_low_score})",
        )
        return None
    return value


def _text(reader: Reader, value: Any, at: YamlPath) -> SurveyText | None:
    """`{en: ..., ru: ...}` (inline texts) or `template_name` (templates/<lang>/<name>.j2)."""
    if isinstance(value, str):
        name = reader.ident(value, at, "a template's name")
        return SurveyText(template=name) if name else None
    if not isinstance(value, dict) or not value:
        reader.problem(at, "expected texts per language (`en: ...`) or a template's name")
        return None
    texts: dict[str, str] = {}
    for language, text in value.items():
        if not _LANGUAGE.fullmatch(language) or len(language) > 16:
            reader.problem((*at, language), f"`{language}` is not a language code", at_key=True)
            continue
        found = reader.text(text, (*at, language), "a text")
        if found is not None:
            texts[language] = found
    return SurveyText(by_language=texts) if len(texts) == len(value) else None
