"""Incremental upsert / remove give the same index as a build from scratch."""

from dataclasses import replace

import pytest

from bot.knowledge.index import IndexParams, KnowledgeIndex
from bot.knowledge.model import Article
from tests.knowledge.kb_fixtures import ARTICLES

QUESTIONS = [
    ("where is my parcel", "en"),
    ("money back please", "en"),
    ("forgot password", "en"),
    ("open on sunday?", "en"),
    ("где посылка", "ru"),
    ("возврат", "ru"),
    ("delivery refund", None),
]


def ranking(index: KnowledgeIndex) -> list[list[tuple[str, float]]]:
    return [
        [(m.article_id, round(m.score, 5)) for m in index.search(q, lang, limit=10)]
        for q, lang in QUESTIONS
    ]


def many_articles(n: int) -> list[Article]:
    topics = ["invoice", "shipping", "account", "coupon", "warranty", "battery", "screen"]
    verbs = ["broken", "missing", "late", "wrong", "expired", "locked", "charged twice"]
    return [
        Article(
            f"gen{i}",
            f"{topics[i % 7]} {verbs[i // 7 % 7]}",
            "en",
            (
                f"my {topics[i % 7]} is {verbs[i // 7 % 7]}",
                f"help with {topics[i % 7]} {verbs[(i + 3) % 7]} number {i}",
            ),
        )
        for i in range(n)
    ]


def test_upsert_and_remove_equal_a_fresh_build() -> None:
    index = KnowledgeIndex(ARTICLES[:3])
    index.upsert(ARTICLES[3:])
    changed = replace(ARTICLES[1], questions=(*ARTICLES[1].questions, "send it back"))
    index.upsert([changed])
    index.remove(["password", "not-there"])
    expected = [a for a in ARTICLES if a.id != "password"]
    expected[1] = changed
    fresh = KnowledgeIndex(expected)
    assert len(index) == len(fresh) == len(ARTICLES) - 1
    assert ranking(index) == ranking(fresh)


def test_removed_article_is_never_found_again() -> None:
    index = KnowledgeIndex(ARTICLES)
    index.remove(["refund"])
    assert all(m.article_id != "refund" for m in index.search("refund my money", "en", 10))
    index.remove(a.id for a in ARTICLES)
    assert len(index) == 0 and index.search("refund") == []


@pytest.mark.parametrize("refreeze", [1.0, 0.0])
def test_local_update_matches_rebuild_on_a_larger_kb(refreeze: float) -> None:
    """refreeze=1.0 keeps the IDF snapshot and takes the local offender path; after
    rebuild() (re-snapshot) it must be the fresh index exactly."""
    base = many_articles(60)
    params = IndexParams(refreeze_fraction=refreeze)
    index = KnowledgeIndex(base, params)
    extra = many_articles(63)[60:]
    index.upsert(extra)
    index.upsert([replace(base[5], questions=("my coupon is wrong again",))])
    index.remove(["gen7", "gen8"])
    final = [a for a in base + extra if a.id not in {"gen7", "gen8"}]
    final[5] = replace(base[5], questions=("my coupon is wrong again",))
    fresh = KnowledgeIndex(final, params)
    local = [index.search(q, "en", 3)[0].article_id for q in ("coupon wrong", "screen locked")]
    assert local == [
        fresh.search(q, "en", 3)[0].article_id for q in ("coupon wrong", "screen locked")
    ]
    index.rebuild()
    fresh.rebuild()
    assert ranking(index) == ranking(fresh)
