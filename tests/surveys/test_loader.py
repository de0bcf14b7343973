"""Survey files: the shipped ones, every mistake with its file:line:column, `nudge check`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.checks import check_surveys
from bot.domain.surveys import SurveyKind
from bot.rendering import Renderer
from bot.surveys.catalog import SurveyLibrary, load_surveys
from bot.surveys.loader import load_survey_text
from bot.surveys.model import parse_button, score_buttons
from tests.surveys.world import SURVEYS, TEMPLATES

GOOD = """\
id: quick
kind: csat
question: {en: "How did we do, {{ name }}?", ru: "Как мы справились?"}
thanks: {en: Thanks!, ru: Спасибо!}
"""


def _renderer() -> Renderer:
    return Renderer(TEMPLATES, "en")


def _problems(tmp_path: Path, text: str, name: str = "bad.yaml") -> list[str]:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    catalog = load_surveys(tmp_path, _renderer())
    return [str(p).removeprefix(f"{tmp_path}/") for p in catalog.problems]


def test_the_shipped_surveys_load_cleanly() -> None:
    catalog = load_surveys(SURVEYS, _renderer())
    assert catalog.problems == ()
    csat, nps = catalog.get("csat_after_chat"), catalog.get("nps_after_purchase")
    assert csat is not None and nps is not None
    assert (csat.kind, csat.low_score, nps.kind, nps.low_score) == (
        SurveyKind.CSAT, 2, SurveyKind.NPS, 6,
    )  # fmt: skip
    for survey in (csat, nps):
        for text in (survey.question, survey.thanks, survey.follow_up):
            assert text is not None and set(text.by_language) == {"en", "ru", "ro", "ko"}


def test_defaults_for_the_low_score() -> None:
    loaded = load_survey_text(GOOD.replace("csat", "nps"), "x.yaml")
    assert loaded.survey is not None and loaded.survey.low_score == 6
    assert load_survey_text(GOOD, "x.yaml").survey.low_score == 2  # type: ignore[union-attr]


def test_mistakes_are_reported_at_their_place(tmp_path: Path) -> None:
    text = """\
        id: Bad Id
        kind: stars
        question: {en: "Hi", english: "Hi"}
        tahnks: {en: Thanks}
        expiry: 2 days
        follow_up: 42
        """
    assert _problems(tmp_path, text) == [
        "bad.yaml:1:1: `thanks:` is missing: every survey needs id, kind, question, thanks",
        "bad.yaml:1:5: id: `Bad Id` must be made of lowercase latin letters, digits, `-` and `_`,"
        " at most 64, like `cart_reminder`",
        "bad.yaml:2:7: kind: expected `csat` (scores 1 to 5) or `nps` (scores 0 to 10)",
        "bad.yaml:3:22: question.english: `english` is not a language code",
        "bad.yaml:4:1: tahnks: unknown key `tahnks`; did you mean `thanks`?",
        "bad.yaml:5:9: expiry: `2 days` is not a duration: write a whole number and a unit"
        " (w, d, h, m, s), like 30m, 2h or 1d12h",
        "bad.yaml:6:12: follow_up: expected texts per language (`en: ...`) or a template's name",
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("low_score: 5\n", "bad.yaml:5:12: low_score: expected a whole number from 1 to 4"),
        ("low_score: 0\n", "bad.yaml:5:12: low_score: expected a whole number from 1 to 4"),
        ("low_score: yes\n", "bad.yaml:5:12: low_score: expected a whole number from 1 to 4"),
    ],
)
def test_a_low_score_outside_the_scale(tmp_path: Path, extra: str, expected: str) -> None:
    [problem] = _problems(tmp_path, GOOD + extra)
    assert problem.startswith(expected)


def test_texts_are_checked_by_rendering_them(tmp_path: Path) -> None:
    text = """\
        id: quick
        kind: nps
        question: {ru: "Как дела, {{ nmae }}?"}
        thanks:
          en: "{{ name | nosuchfilter }}"
        follow_up: no_such_template
        """
    problems = _problems(tmp_path, text)
    assert (
        problems[0]
        == "bad.yaml:3:11: question: needs a text in `en`: other languages fall back to it"
    )
    assert problems[1].startswith("bad.yaml:3:16: question.ru: ") and "nmae" in problems[1]
    assert problems[2].startswith("bad.yaml:5:7: thanks.en: ") and "nosuchfilter" in problems[2]
    assert (
        problems[3] == f"bad.yaml:6:12: follow_up: no template `no_such_template` in {TEMPLATES}/en"
    )
    assert len(problems) == 4


def test_a_template_by_name_must_use_only_survey_variables(tmp_path: Path) -> None:
    # `kb_choices` needs variables a survey does not give.
    problems = _problems(tmp_path, GOOD + "follow_up: handoff_after_hours\n")
    assert problems and all(p.startswith("bad.yaml:5:12: follow_up: ") for p in problems)
    assert "opens_time" in " ".join(problems)
    assert _problems(tmp_path, GOOD + "follow_up: stopped\n") == []


def test_yaml_syntax_and_duplicate_ids(tmp_path: Path) -> None:
    assert _problems(tmp_path, "id: [unclosed\n") == [
        "bad.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'"
        " (while parsing a flow sequence on line 1)"
    ]
    (tmp_path / "bad.yaml").unlink()
    (tmp_path / "a.yaml").write_text(GOOD)
    assert _problems(tmp_path, GOOD, "b.yaml") == [
        "b.yaml:1:5: id: the survey id `quick` is already used by " + str(tmp_path / "a.yaml")
    ]


def test_a_broken_edit_keeps_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "quick.yaml"
    path.write_text(GOOD)
    library = SurveyLibrary(tmp_path, _renderer())
    assert library.refresh() and library.current().get("quick") is not None
    path.write_text(GOOD.replace("kind: csat", "kind: stars") + "\n")
    assert library.refresh()
    kept = library.current().get("quick")
    assert kept is not None and kept.kind is SurveyKind.CSAT
    assert library.current().errors
    assert not library.refresh()  # unchanged files are not read again


def test_nudge_check_reports_surveys_and_funnels_asking_for_unknown_ones(tmp_path: Path) -> None:
    surveys, funnels = tmp_path / "surveys", tmp_path / "funnels"
    surveys.mkdir()
    funnels.mkdir()
    (surveys / "quick.yaml").write_text(GOOD.replace("kind: csat", "kind: stars"))
    (funnels / "ask.yaml").write_text(
        "id: ask\ntrigger: {api: true}\nsteps:\n  - id: first\n    survey: quick\n"
    )
    problems = check_surveys(surveys, _renderer(), funnels, after_close="quick")
    assert problems == [
        f"{surveys}/quick.yaml:2:7: kind: expected `csat` (scores 1 to 5) or `nps`"
        " (scores 0 to 10)",
        f"surveys.after_close: no survey `quick` in {surveys}/",
        f"{funnels}/ask.yaml:5:13: steps[0].survey: no survey `quick` in {surveys}/",
    ]
    (surveys / "quick.yaml").write_text(GOOD)
    assert check_surveys(surveys, _renderer(), funnels, after_close="quick") == []


def test_buttons_and_their_data() -> None:
    nps = score_buttons(SurveyKind.NPS, 123456789012345678)
    assert [len(row) for row in nps] == [6, 5]
    assert all(len((b.callback_data or "").encode()) <= 64 for row in nps for b in row)
    assert parse_button("sv:12:4") == (12, 4)
    for forged in ("sv:12", "sv:12:4:1", "sv:-1:4", "sv:١٢:4", "fn:12:4", "sv:12:100"):
        assert parse_button(forged) is None, forged
