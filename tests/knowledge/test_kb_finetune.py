"""Softmax fine-tuning of the scoring matrices for small KBs (contrast.fine_tune)."""

from dataclasses import replace

import numpy as np

from bot.knowledge.contrast import ContrastParams
from bot.knowledge.index import IndexParams, KnowledgeIndex
from tests.knowledge.kb_fixtures import ARTICLES


def _params(**changes: float) -> IndexParams:
    return IndexParams(contrast=replace(ContrastParams(), **changes))


def _scores(index: KnowledgeIndex, question: str) -> dict[str, float]:
    return {m.article_id: m.score for m in index.search(question, "en", limit=50)}


def test_small_kb_is_fine_tuned_and_keeps_the_score_scale() -> None:
    tuned = KnowledgeIndex(ARTICLES)
    plain = KnowledgeIndex(ARTICLES, _params(tune_steps=0))
    a, b = _scores(tuned, "where is my parcel"), _scores(plain, "where is my parcel")
    assert a != b
    assert max(a, key=a.__getitem__) == max(b, key=b.__getitem__) == "delivery"
    assert 0.5 < a["delivery"] / b["delivery"] < 2.0


def test_large_kb_keeps_the_one_pass_correction() -> None:
    capped = KnowledgeIndex(ARTICLES, _params(tune_cells=1))
    plain = KnowledgeIndex(ARTICLES, _params(tune_steps=0))
    assert _scores(capped, "where is my parcel") == _scores(plain, "where is my parcel")


def test_fine_tuning_is_deterministic_across_updates() -> None:
    fresh = KnowledgeIndex(ARTICLES)
    grown = KnowledgeIndex(ARTICLES[: len(ARTICLES) // 2])
    grown.upsert(ARTICLES[len(ARTICLES) // 2 :])
    grown.rebuild()
    for question in ("where is my parcel", "i forgot my pasword", "are you open sundays"):
        a, b = _scores(fresh, question), _scores(grown, question)
        assert a.keys() == b.keys()
        assert np.allclose([a[k] for k in a], [b[k] for k in a], atol=1e-6)
