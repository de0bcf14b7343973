"""answer / offer choices / no answer, and threshold tuning."""

from bot.knowledge.decision import (
    DEFAULT_THRESHOLDS,
    DecisionKind,
    LabelledQuery,
    Thresholds,
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
    matches = [Match(x, s) for x, s in zip("abcde", (0.45, 0.44, 0.4, 0.35, 0.3), strict=True)]
    d = decide(matches, T)
    assert d.kind is DecisionKind.CHOICES and len(d.matches) == 3


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
