"""A funnels folder as the engine sees it: the demo funnels, lookups, rejected files."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.funnel.catalog import keyword_matches, load_funnels
from bot.funnel.model import KeywordTrigger, QuietHours
from bot.funnel.steps import Button
from bot.rendering import Renderer

REPO = Path(__file__).resolve().parents[2]
DEMO_IDS = {"welcome", "abandoned_cart", "unpaid_order", "stalled_dialog", "post_purchase"}


def test_the_demo_funnels_load_with_zero_problems() -> None:
    catalog = load_funnels(REPO / "funnels", Renderer(REPO / "templates", "en"))
    assert [str(p) for p in catalog.problems] == []
    assert {funnel.id for funnel in catalog} == DEMO_IDS
    assert catalog.rejected == ()


def test_lookups_on_the_demo_funnels() -> None:
    catalog = load_funnels(REPO / "funnels", Renderer(REPO / "templates", "en"))
    assert [f.id for f in catalog.by_trigger_event("cart_abandoned")] == ["abandoned_cart"]
    assert [f.id for f in catalog.by_trigger_kind("stalled")] == ["stalled_dialog"]
    assert catalog.by_trigger_event("nothing") == ()
    welcome = catalog.get("welcome")
    assert welcome is not None and welcome.source == REPO / "funnels" / "welcome.yaml"
    assert catalog.get("missing") is None
    unpaid = catalog.get("unpaid_order")
    assert unpaid is not None and unpaid.marketing is False


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)


def test_a_broken_funnel_is_left_out_and_reported(tmp_path: Path) -> None:
    folder = tmp_path / "funnels"
    write(folder, "good.yaml", "id: good\ntrigger: {tag_added: vip}\nsteps:\n  - {id: a, tag: t}\n")
    write(folder, "bad.yml", "id: bad\ntrigger: {api: true}\nsteps:\n  - {id: a, goto: nowhere}\n")
    write(folder, "notes.txt", "not a funnel")
    write(folder / "surveys", "csat.yaml", "not: a funnel")
    catalog = load_funnels(folder, None)
    assert [f.id for f in catalog] == ["good"]
    assert [f.id for f in catalog.by_tag_added("vip")] == ["good"]
    assert catalog.rejected == (str(folder / "bad.yml"),)
    assert [p.message for p in catalog.errors] == ["there is no step `nowhere` in this funnel"]


def test_two_files_with_one_funnel_id(tmp_path: Path) -> None:
    folder = tmp_path / "funnels"
    for name in ("a.yaml", "b.yaml"):
        write(folder, name, "id: same\ntrigger: {api: true}\nsteps:\n  - {id: a, tag: t}\n")
    catalog = load_funnels(folder, None)
    (problem,) = catalog.problems
    assert problem.path.endswith("b.yaml") and (problem.line, problem.column) == (1, 5)
    assert problem.message == f"the funnel id `same` is already used by {folder / 'a.yaml'}"
    assert [f.id for f in catalog] == ["same"]


def test_a_missing_folder_is_an_empty_catalog(tmp_path: Path) -> None:
    catalog = load_funnels(tmp_path / "nope", None)
    assert (len(catalog), catalog.problems) == (0, ())


@pytest.mark.parametrize(
    ("message", "matches"),
    [
        ("promo", True),
        ("  PROMO! ", True),
        ("promo please", False),
        ("/sale", True),
        ("/sale@nudge_bot now", True),
        ("/salesman", False),
        ("sale", False),
        ("", False),
    ],
)
def test_keyword_matching(message: str, matches: bool) -> None:
    assert keyword_matches(KeywordTrigger(("promo", "/sale")), message) is matches


def test_quiet_hours_wrap_past_midnight() -> None:
    night = QuietHours(time(21), time(9))
    assert night.contains(time(23, 30)) and night.contains(time(3)) and night.contains(time(21))
    assert not night.contains(time(9)) and not night.contains(time(12))
    lunch = QuietHours(time(13), time(14))
    assert lunch.contains(time(13, 30)) and not lunch.contains(time(14))


def test_button_labels_by_language() -> None:
    button = Button({"en": "Yes", "ru": "Да"}, reply="yes")
    assert button.text_for("ru-RU", "en") == "Да"
    assert button.text_for("ko", "en") == "Yes"
    assert Button({"*": "OK", "ru": "Ок"}, reply="ok").text_for("ro", "en") == "OK"
    assert button.kind == "reply"
