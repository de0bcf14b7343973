"""Regression guard on the real benchmark (CLINC150 validation split).

Tuned on half of val, measured on the other half: never-reject 82.9 %, OOS AUROC 0.946,
in-scope top-1 80.1 % at 86 % OOS recall. The run is deterministic; the floors sit well below
those figures so that a change of machine or of a library version does not trip them, while a
broken tokeniser, weighting, contrast step or decision rule does.
"""

import os
from pathlib import Path

import pytest

from bot.knowledge.decision import tune
from bot.knowledge.evaluation import load_bench_dir, run_queries
from bot.knowledge.index import KnowledgeIndex

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [
    Path(os.environ.get("NUDGE_KB_BENCH", "/nonexistent")),
    ROOT.parent / "shared" / "bench" / "kb",
    Path("/work/shared/bench/kb"),
]
BENCH = next((p for p in CANDIDATES if (p / "clinc150" / "kb.jsonl").exists()), None)


@pytest.mark.skipif(BENCH is None, reason="benchmark data (shared/bench/kb) not found")
def test_clinc150_validation_floor() -> None:
    assert BENCH is not None
    articles, _, val = load_bench_dir(BENCH / "clinc150")
    assert val is not None
    index = KnowledgeIndex(articles)
    # Tune on the first half of val and measure on the second half: the guard then also
    # covers tune() picking sane thresholds on data it has not seen.
    in_scope = [q for q in val if q.expected_id is not None]
    oos = [q for q in val if q.expected_id is None]
    tuning = in_scope[::2] + oos[::2]
    held_out = in_scope[1::2] + oos[1::2]
    report = run_queries(index, held_out, tune(index, tuning))
    assert report.never_reject > 0.77
    assert report.auroc > 0.88
    assert report.in_scope_top1 > 0.70
    assert report.oos_recall > 0.75
    assert report.p99_ms < 50


@pytest.mark.skipif(BENCH is None, reason="benchmark data (shared/bench/kb) not found")
def test_clinc150_validation_with_embeddings_beats_the_lexical_ranking() -> None:
    """The same halves of val, with `knowledge.embeddings: wordllama`: better ranking (never
    reject 85.0 vs 82.9 % on the held-out half) and better separation of out-of-scope
    questions (AUROC). The held-out OOS recall is only floored: with 50 questions one question
    is two points, so comparing the two recalls would test noise."""
    from bot.knowledge.embeddings import WordLlamaEmbedder

    assert BENCH is not None
    articles, _, val = load_bench_dir(BENCH / "clinc150")
    assert val is not None
    in_scope = [q for q in val if q.expected_id is not None]
    oos = [q for q in val if q.expected_id is None]
    tuning = in_scope[::2] + oos[::2]
    held_out = in_scope[1::2] + oos[1::2]
    reports = []
    for embedder in (None, WordLlamaEmbedder()):
        index = KnowledgeIndex(articles, embedder=embedder)
        reports.append(run_queries(index, held_out, tune(index, tuning)))
    lexical, embedded = reports
    assert embedded.never_reject > lexical.never_reject + 0.015
    assert embedded.auroc > lexical.auroc
    assert embedded.in_scope_top1 > lexical.in_scope_top1
    assert embedded.oos_recall > 0.70
    assert embedded.p99_ms < 50
