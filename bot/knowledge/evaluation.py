"""Benchmark evaluation of the index and the decision (`nudge kb eval DIR`).

A bench directory holds `kb.jsonl` (id, title, lang, examples), `queries.jsonl` (test) and
optionally `queries_val.jsonl`. Thresholds are tuned on the validation file and only on it;
without one, the given (or default) thresholds are used. The test queries are then run one
at a time, as the bot would, timing search + decision for each.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bot.knowledge.decision import (
    DEPTH,
    DecisionKind,
    LabelledQuery,
    Thresholds,
    decide,
    default_thresholds,
    tune,
)
from bot.knowledge.embeddings import SentenceEmbedder
from bot.knowledge.index import KnowledgeIndex
from bot.knowledge.model import Article


@dataclass(frozen=True, slots=True)
class EvalReport:
    in_scope_top1: float
    oos_recall: float
    oos_precision: float
    never_reject: float
    auroc: float
    p50_ms: float
    p99_ms: float
    thresholds: Thresholds
    n_in_scope: int
    n_oos: int
    build_s: float

    def as_dict(self) -> dict[str, Any]:
        """The `nudge kb eval --json` object (an undefined rate, e.g. precision without any
        hand-off, is null: JSON has no NaN)."""
        return {
            "in_scope_top1": _rate(self.in_scope_top1),
            "oos_recall": _rate(self.oos_recall),
            "oos_precision": _rate(self.oos_precision),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "thresholds": self.thresholds.as_dict(),
            "never_reject": _rate(self.never_reject),
            "auroc": _rate(self.auroc),
            "n_in_scope": self.n_in_scope,
            "n_oos": self.n_oos,
            "build_s": round(self.build_s, 3),
        }


def _rate(value: float) -> float | None:
    return None if np.isnan(value) else round(value, 4)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_articles(path: Path) -> list[Article]:
    return [
        Article(
            id=str(row["id"]),
            title=str(row.get("title", "")),
            lang=str(row.get("lang", "en")),
            questions=tuple(row.get("examples") or row.get("questions") or ()),
            body=str(row.get("body", "")),
        )
        for row in _read_jsonl(path)
    ]


def load_queries(path: Path) -> list[LabelledQuery]:
    return [
        LabelledQuery(str(row["text"]), row.get("expected_id"), row.get("lang"), str(row["id"]))
        for row in _read_jsonl(path)
    ]


def load_bench_dir(
    path: Path | str,
) -> tuple[list[Article], list[LabelledQuery], list[LabelledQuery] | None]:
    """(articles, test queries, validation queries or None)."""
    root = Path(path)
    val = root / "queries_val.jsonl"
    return (
        load_articles(root / "kb.jsonl"),
        load_queries(root / "queries.jsonl"),
        load_queries(val) if val.exists() else None,
    )


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score of a random positive > a random negative), ties counted half."""
    if not len(positive) or not len(negative):
        return float("nan")
    both = np.concatenate([positive, negative])
    order = both.argsort(kind="stable")
    ranks = np.empty(len(both))
    ranks[order] = np.arange(1, len(both) + 1)
    # Tied scores share their mean rank.
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    n_pos = len(positive)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * len(negative)))


MAX_SHOWN = DEPTH  # the decision reads the field of the next ten


def run_queries(
    index: KnowledgeIndex, queries: list[LabelledQuery], thresholds: Thresholds
) -> EvalReport:
    answered_right, handed_off, top_right, top_score, latency = [], [], [], [], []
    for query in queries:
        started = time.perf_counter()
        matches = index.search(query.text, query.lang, limit=MAX_SHOWN)
        decision = decide(matches, thresholds)
        latency.append(time.perf_counter() - started)
        top = matches[0] if matches else None
        answered = decision.kind is DecisionKind.ANSWER
        answered_right.append(answered and top is not None and top.article_id == query.expected_id)
        handed_off.append(not answered)
        top_right.append(top is not None and top.article_id == query.expected_id)
        top_score.append(top.score if top else 0.0)
    oos = np.array([q.expected_id is None for q in queries], dtype=bool)
    off = np.array(handed_off, dtype=bool)
    scores = np.array(top_score)
    ms = np.array(latency) * 1000.0
    return EvalReport(
        in_scope_top1=_mean(np.array(answered_right)[~oos]),
        oos_recall=_mean(off[oos]),
        oos_precision=float((off & oos).sum() / off.sum()) if off.any() else float("nan"),
        never_reject=_mean(np.array(top_right)[~oos]),
        auroc=auroc(scores[~oos], scores[oos]),
        p50_ms=float(np.percentile(ms, 50)) if len(ms) else 0.0,
        p99_ms=float(np.percentile(ms, 99)) if len(ms) else 0.0,
        thresholds=thresholds,
        n_in_scope=int((~oos).sum()),
        n_oos=int(oos.sum()),
        build_s=0.0,
    )


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


def evaluate(
    directory: Path | str,
    thresholds: Thresholds | None = None,
    queries_path: Path | str | None = None,
    embedder: SentenceEmbedder | None = None,
) -> EvalReport:
    """Build the index from `kb.jsonl` (with the optional embedding view), tune on
    `queries_val.jsonl` when it exists (otherwise use `thresholds` or the defaults for the
    ranking in use) and run the test queries (or `queries_path`)."""
    articles, queries, val = load_bench_dir(directory)
    if queries_path is not None:
        queries = load_queries(Path(queries_path))
    started = time.perf_counter()
    index = KnowledgeIndex(articles, embedder=embedder)
    index.prepare()
    build_s = time.perf_counter() - started
    if val is not None:
        thresholds = tune(index, val)
    report = run_queries(index, queries, thresholds or default_thresholds(embedder))
    return replace(report, build_s=build_s)


def report_dict(
    directory: Path | str,
    thresholds: Thresholds | None = None,
    embedder: SentenceEmbedder | None = None,
) -> dict[str, Any]:
    """What `nudge kb eval DIR --json` prints."""
    return evaluate(directory, thresholds, embedder=embedder).as_dict()
