"""Ranking on a small hand-made KB, typos and languages."""

import pytest

from bot.knowledge.index import KnowledgeIndex
from tests.knowledge.kb_fixtures import ARTICLES


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex(ARTICLES)


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("where is my parcel", "en", "delivery"),
        ("Where's my delivry??", "en", "delivery"),
        ("I'd like my money back", "en", "refund"),
        ("i forgot my pasword", "en", "password"),
        ("are you open sundays", "en", "hours"),
        ("где мой заказ?", "ru", "delivery_ru"),
        ("хочу возрат денег", "ru", "refund_ru"),
        ("забыл пароли", "ru", "password_ru"),
    ],
)
def test_top_article(index: KnowledgeIndex, question: str, lang: str, expected: str) -> None:
    assert index.search(question, lang)[0].article_id == expected


def test_language_restricts_to_articles_in_that_language(index: KnowledgeIndex) -> None:
    assert all(m.article_id.endswith("_ru") for m in index.search("где заказ", "ru", limit=3))
    assert not any(m.article_id.endswith("_ru") for m in index.search("order", "en", limit=4))


def test_language_is_guessed_from_the_script(index: KnowledgeIndex) -> None:
    assert index.search("забыл пароль")[0].article_id == "password_ru"


def test_unknown_language_falls_back_to_every_article(index: KnowledgeIndex) -> None:
    assert index.search("refund", "ko")[0].article_id in {"refund", "refund_ru"}


def test_results_are_sorted_limited_and_scored_0_to_1(index: KnowledgeIndex) -> None:
    found = index.search("refund my order", "en", limit=3)
    assert len(found) == 3
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert all(0.0 <= m.score <= 1.5 for m in found)
    assert index.search("refund", "en", limit=0) == []


def test_empty_index_finds_nothing() -> None:
    assert KnowledgeIndex().search("anything") == []
    assert len(KnowledgeIndex()) == 0
