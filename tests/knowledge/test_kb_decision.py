"""answer / offer choices / no answer, and threshold tuning."""

import pytest

from bot.knowledge.decision import (
    DEFAULT_THRESHOLDS,
    FIELD,
    FIELD_WEIGHT,
    DecisionKind,
    LabelledQuery,
    Thresholds,
    confidence,
    decide,
    tune,
)
from bot.knowledge.index import KnowledgeIndex
from bot.knowledge.model import Match
from tests.knowledge.kb_fixtures import ARTICLES

T = Thresholds(answer=0.5, choices=0.3, margin=0.05)


def test_confident_top_is_answered() -> None:
    d = decide([Match("a", 0.8), Match("b", 0.4)], T)
    assert d.kind is DecisionKind.ANSWER and [m.article_id for m in d.matches] == ["a"]


def test_close_runner_up_turns_an_answer_into_choices() -> None:
    d = decide([Match("a", 0.8), Match("b", 0.78), Match("c", 0.2)], T)
    assert d.kind is DecisionKind.CHOICES
    assert [m.article_id for m in d.matches] == ["a", "b"]


def test_middling_scores_offer_at_most_three_choices() -> None:
    scores = (0.6, 0.59, 0.58, 0.57, 0.02)  # field mean 0.44: every score less 0.22
    matches = [Match(x, s) for x, s in zip("abcde", scores, strict=True)]
    d = decide(matches, T)
    assert d.kind is DecisionKind.CHOICES and [m.article_id for m in d.matches] == ["a", "b", "c"]


def test_a_score_counts_against_the_field_of_the_next_articles() -> None:
    alone = [Match("a", 0.55)] + [Match(f"x{i}", 0.1) for i in range(FIELD)]
    crowded = [Match("a", 0.55)] + [Match(f"x{i}", 0.4) for i in range(FIELD)]
    assert confidence(alone) == pytest.approx(0.55 - FIELD_WEIGHT * 0.1)
    assert decide(alone, T).kind is DecisionKind.ANSWER
    # The same top score, but the question lifts every article: not an answer.
    assert decide(crowded, T).kind is not DecisionKind.ANSWER
    # Only FIELD runners-up count, however many matches the caller passes.
    longer = alone + [Match(f"y{i}", 0.5) for i in range(20)]
    assert confidence(longer) == confidence(alone)
    assert confidence([Match("a", 0.3)]) == 0.3 and confidence([]) == 0.0


def test_low_scores_hand_off() -> None:
    assert decide([Match("a", 0.2)], T).kind is DecisionKind.NO_ANSWER
    assert decide([], T).kind is DecisionKind.NO_ANSWER


def test_thresholds_round_trip_through_a_dict() -> None:
    assert Thresholds.from_dict(T.as_dict()) == T
    assert Thresholds.from_dict({}) == DEFAULT_THRESHOLDS


def test_tune_separates_known_from_unknown_questions() -> None:
    index = KnowledgeIndex(ARTICLES)
    val = [
        LabelledQuery("where is my order", "delivery", "en"),
        LabelledQuery("i want my money back", "refund", "en"),
        LabelledQuery("forgot my password", "password", "en"),
        LabelledQuery("what time do you open", "hours", "en"),
        LabelledQuery("what is the capital of peru", None, "en"),
        LabelledQuery("play some jazz music", None, "en"),
    ]
    thresholds = tune(index, val)
    for query in val:
        kind = decide(index.search(query.text, "en"), thresholds).kind
        assert (kind is DecisionKind.ANSWER) == (query.expected_id is not None), query.text
    assert thresholds.choices <= thresholds.answer


class _Scripted:
    """A ranking with a given top score per question (empty field)."""

    def __init__(self, tops: dict[str, tuple[str, float]]) -> None:
        self.tops = tops

    def search(self, text: str, lang: str | None = None, limit: int = 5) -> list[Match]:
        article_id, score = self.tops[text]
        return [Match(article_id, score)]


def test_tune_answers_the_most_while_keeping_the_oos_recall() -> None:
    known = {f"k{i}": ("a", 0.30 + 0.01 * i) for i in range(10)}  # 0.30 .. 0.39, all right
    unknown = {f"u{i}": ("a", 0.10 + 0.03 * i) for i in range(10)}  # 0.10 .. 0.37
    index = _Scripted(known | unknown)
    val = [LabelledQuery(q, "a") for q in known] + [LabelledQuery(q, None) for q in unknown]
    # 85 % of 10 unknown: 9 must stay below the threshold, i.e. above 0.34 (the 9th); the
    # next value is a known 0.35: the threshold sits between them.
    thresholds = tune(index, val, min_oos_recall=0.85)
    assert thresholds.answer == pytest.approx(0.345)
    assert thresholds.choices == pytest.approx(0.8 * 0.345, abs=1e-4)
    # Asking for all of them moves it above the highest unknown (0.37, next known 0.38).
    assert tune(index, val, min_oos_recall=1.0).answer == pytest.approx(0.375)
    # No out-of-scope questions to tune on: the defaults.
    assert tune(index, val[:10]) == DEFAULT_THRESHOLDS
