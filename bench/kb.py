"""Knowledge-base ranking benchmark: accuracy, OOS, latency, index build and update cost.

1. CLINC150 test with thresholds tuned on its validation split only, then massive_mini en/ru
   and cross-lingual (en KB, ru questions) with the CLINC150 thresholds carried over; the
   README's reference baselines are printed beside ours.
2. 10,000 synthetic articles recombined from the CLINC150 examples: build time, memory
   (tracemalloc of what the index keeps, and the process RSS growth), the time to upsert
   and to remove one article (including the first search after it, which assembles the
   query matrices), and the search latency at that size.

Both are run for the default (lexical) ranking and, when the `nudge[embeddings]` extra is
installed, again with `knowledge.embeddings: wordllama`, each tuned on CLINC150 val by itself.

    python bench/kb.py [--bench-dir ../shared/bench/kb] [--articles 10000]
                       [--embeddings none|wordllama|both] [--json]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import random
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.knowledge.decision import tune
from bot.knowledge.embeddings import SentenceEmbedder, load_embedder
from bot.knowledge.evaluation import load_bench_dir, load_queries, run_queries
from bot.knowledge.index import KnowledgeIndex
from bot.knowledge.model import Article

ROOT = Path(__file__).resolve().parents[1]
# From shared/bench/kb/README.md: (in-scope top-1, OOS recall, never-reject, AUROC, p99 ms).
REFERENCE = {
    "clinc150": [
        ("BM25 (bal)", 64.3, 82.8, 78.8, 0.847, 0.05),
        ("TF-IDF char 3-5 (bal)", 58.7, 82.1, 69.0, 0.869, 0.64),
        ("MiniLM-L6 (bal)", 78.6, 81.3, 83.3, 0.949, 17.37),
    ],
    "massive_mini_en": [
        ("BM25", None, None, 49.0, 0.754, None),
        ("MiniLM-L6", 44.1, 68.3, 61.5, 0.748, None),
    ],
    "massive_mini_ru": [
        ("BM25", None, None, 33.6, 0.684, None),
        ("TF-IDF char", 23.8, 85.0, 44.8, 0.703, None),
    ],
    "cross en KB / ru queries": [("TF-IDF char", 2.8, 88.3, 4.9, 0.470, None)],
}


SETS = list(REFERENCE)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def accuracy(bench: Path, embedder: SentenceEmbedder | None) -> list[dict[str, Any]]:
    method = "Nudge" if embedder is None else "Nudge + WordLlama"
    articles, test, val = load_bench_dir(bench / "clinc150")
    index = KnowledgeIndex(articles, embedder=embedder)
    assert val is not None
    thresholds = tune(index, val)
    report = run_queries(index, test, thresholds).as_dict()
    rows = [{"set": "clinc150", "method": method, **report}]
    for name, kb, queries in (
        ("massive_mini_en", "massive_mini_en", "massive_mini_en"),
        ("massive_mini_ru", "massive_mini_ru", "massive_mini_ru"),
        ("cross en KB / ru queries", "massive_mini_en", "massive_mini_ru"),
    ):
        kb_articles, _, _ = load_bench_dir(bench / kb)
        questions = load_queries(bench / queries / "queries.jsonl")
        if kb != queries:  # the question's language must not restrict to a KB it lacks
            questions = [replace(q, lang=None) for q in questions]
        carried = run_queries(KnowledgeIndex(kb_articles, embedder=embedder), questions, thresholds)
        rows.append({"set": name, "method": method, **carried.as_dict()})
    return rows


def synthetic(bench: Path, count: int, seed: int = 13) -> list[Article]:
    """Articles recombined from CLINC150 examples: each takes one intent's phrasings, splices
    halves of two of them, and adds a product code of its own (real KBs name products)."""
    base, _, _ = load_bench_dir(bench / "clinc150")
    rng = random.Random(seed)
    made = []
    for number in range(count):
        source = base[number % len(base)]
        phrasings = []
        for _ in range(10):
            a, b = rng.sample(source.questions, 2)
            left, right = a.split(), b.split()
            text = " ".join(left[: len(left) // 2] + right[len(right) // 2 :])
            phrasings.append(f"{text} sku{number}" if rng.random() < 0.3 else text)
        made.append(Article(f"syn{number}", f"{source.title} {number}", "en", tuple(phrasings)))
    return made


def search_latencies(index: KnowledgeIndex, articles: list[Article]) -> list[float]:
    """Milliseconds per search, sorted, one question at a time."""
    latencies = []
    for article in articles:
        began = time.perf_counter()
        index.search(article.questions[0], "en")
        latencies.append((time.perf_counter() - began) * 1000)
    return sorted(latencies)


def traced_memory(
    articles: list[Article], embedder: SentenceEmbedder | None
) -> tuple[float, float]:
    """MB kept by a built index (after its first search) and the peak while building.
    A separate build: tracemalloc slows allocation-heavy code about 2x, so the timings come
    from a build without it."""
    gc.collect()
    tracemalloc.start()
    index = KnowledgeIndex(articles, embedder=embedder)
    index.search("warm up the query matrices", "en")
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del index
    return kept / 2**20, peak / 2**20


def scale(bench: Path, count: int, embedder: SentenceEmbedder | None) -> dict[str, float]:
    articles = synthetic(bench, count)
    gc.collect()
    rss_before = rss_mb()
    started = time.perf_counter()
    index = KnowledgeIndex(articles, embedder=embedder)
    built_s = time.perf_counter() - started
    index.search("warm up the query matrices", "en")
    ready_s = time.perf_counter() - started
    rss_growth = rss_mb() - rss_before
    changed = replace(articles[17], questions=(*articles[17].questions, "a brand new phrasing"))
    started = time.perf_counter()
    index.upsert([changed])
    upsert_s = time.perf_counter() - started
    index.search("how do i freeze my account", "en")
    upsert_search_s = time.perf_counter() - started
    started = time.perf_counter()
    index.remove(["syn42"])
    index.search("how do i freeze my account", "en")
    remove_search_s = time.perf_counter() - started
    latencies = search_latencies(index, articles[:300])
    del index
    kept_mb, peak_mb = traced_memory(articles, embedder)
    return {
        "articles": count,
        "build_s": built_s,
        "build_and_first_search_s": ready_s,
        "index_mb_tracemalloc": kept_mb,
        "peak_mb_tracemalloc": peak_mb,
        "rss_growth_mb": rss_growth,
        "upsert_one_s": upsert_s,
        "upsert_one_plus_first_search_s": upsert_search_s,
        "remove_one_plus_first_search_s": remove_search_s,
        "search_p50_ms": latencies[len(latencies) // 2],
        "search_p99_ms": latencies[int(len(latencies) * 0.99)],
    }


def fmt(value: float | None, scale_by: float = 100.0, digits: int = 1) -> str:
    return "—" if value is None else f"{value * scale_by:.{digits}f}"


def print_tables(rows: list[dict[str, Any]], size: dict[str, float]) -> None:
    print(
        "| set | method | in-scope top-1 | OOS recall | OOS precision | never reject | "
        "AUROC | p50 ms | p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    referenced: set[str] = set()
    for row in rows:
        print(
            f"| {row['set']} | **{row['method']}** | {fmt(row['in_scope_top1'])} | "
            f"{fmt(row['oos_recall'])} | {fmt(row['oos_precision'])} | "
            f"{fmt(row['never_reject'])} | {row['auroc']:.3f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} |"
        )
        shown = row["set"] in referenced
        referenced.add(row["set"])
        for name, top1, recall, never, auc, p99 in [] if shown else REFERENCE[row["set"]]:
            print(
                f"| | {name} (README) | {fmt(top1, 1)} | {fmt(recall, 1)} | | "
                f"{fmt(never, 1)} | {auc:.3f} | | {fmt(p99, 1, 2)} |"
            )
    for row in rows:
        if row["set"] == "clinc150":
            print(f"\nthresholds of {row['method']} (tuned on clinc150 val): {row['thresholds']}")
    for method, figures in size.items():
        print(f"\n{method}, {figures['articles']:.0f} articles:")
        for key, value in figures.items():
            print(f"  {key:34s} {value:10.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", type=Path, default=ROOT.parent / "shared/bench/kb")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--embeddings", choices=("none", "wordllama", "both"), default="both")
    args = parser.parse_args()
    bench = args.bench_dir if args.bench_dir.exists() else Path("/work/shared/bench/kb")
    names = ["none", "wordllama"] if args.embeddings == "both" else [args.embeddings]
    if "wordllama" in names and importlib.util.find_spec("wordllama") is None:
        print("wordllama is not installed (pip install 'nudge[embeddings]'): lexical only")
        names = ["none"]
    rows: list[dict[str, Any]] = []
    size: dict[str, dict[str, float]] = {}
    for name in names:
        embedder = load_embedder(name)
        rows += accuracy(bench, embedder)
        size["Nudge" if embedder is None else "Nudge + WordLlama"] = scale(
            bench, args.articles, embedder
        )
    rows.sort(key=lambda row: SETS.index(row["set"]))  # stable: each set's methods together
    if args.json:
        print(json.dumps({"accuracy": rows, "scale": size}, indent=2))
    else:
        print_tables(rows, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
