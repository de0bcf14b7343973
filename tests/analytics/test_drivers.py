"""Grouping unanswered questions, and reading funnel button presses back (pure functions)."""

from __future__ import annotations

from bot.analytics.drivers import cluster_questions, jaccard, stems_of
from bot.analytics.funnels import parse_button_press
from bot.domain.report_ports import UnansweredQuestion


def ask(*questions: str, language: str = "en") -> list[UnansweredQuestion]:
    return [UnansweredQuestion(q, language) for q in questions]


def test_stems_fold_case_plurals_and_little_words() -> None:
    assert stems_of("Where are my PARCELS?", "en") == stems_of("parcel", "en") == {"parcel"}
    # Russian: words longer than 4 letters are cut to 4 (the knowledge base's rule).
    assert stems_of("Где моя посылка?", "ru") == stems_of("посылку где", "ru") == {"посы"}
    assert jaccard(frozenset({"a", "b"}), frozenset({"b", "c"})) == 1 / 3
    assert jaccard(frozenset(), frozenset()) == 1.0


def test_groups_form_around_the_most_frequent_wording() -> None:
    clusters = cluster_questions(
        ask("refund please", "refund please", "refund for order", "my refund status", "discount")
    )
    # {refund} x2; {refund, order}: 1/2 joins; {refund, status}: 1/2 joins; {discount} alone.
    assert [(c.example, c.count, c.words) for c in clusters] == [
        ("refund please", 4, ("refund",)),
        ("discount", 1, ("discount",)),
    ]
    assert clusters[0].samples == ("refund for order", "my refund status")


def test_dissimilar_questions_stay_apart_and_limit_cuts() -> None:
    # {gift, card} and {card, declin}: 1/3 < 1/2, two groups.
    clusters = cluster_questions(ask("gift card", "card declined", "card declined"), limit=1)
    assert [(c.example, c.count) for c in clusters] == [("card declined", 2)]


def test_button_presses_are_read_only_from_funnel_buttons() -> None:
    assert parse_button_press("[button] fn:42:offer:yes") == (42, "offer")
    assert parse_button_press("[button] fn:42:offer:snooze") == (42, "offer")
    for other in ("[button] kb:y:12", "[button] fn:x:offer:yes", "[button] fn:42", "fn:1:a:b"):
        assert parse_button_press(other) is None
