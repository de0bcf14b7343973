"""The optional sentence-embedding view (`knowledge.embeddings: wordllama`).

The real WordLlama model from its installed wheel is used throughout (the dev extra installs
it): the tests prove it loads with the network refused, how its cosine enters the score, that
an update embeds only the articles it brings, and that a missing package is a clear
configuration error.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.config import ConfigError, load_settings
from bot.config.models import KnowledgeSettings
from bot.knowledge.embeddings import (
    MAX_CHARS,
    EmbeddingsUnavailable,
    SentenceEmbedder,
    WordLlamaEmbedder,
    load_embedder,
    normalise_rows,
)
from bot.knowledge.entries import phrasings
from bot.knowledge.index import KnowledgeIndex
from bot.knowledge.model import Article
from bot.knowledge.setup import configured_thresholds
from bot.knowledge.terms import FloatArray

REPO = Path(__file__).resolve().parents[2]
ARTICLES = [
    Article("origin", "Where are you from", "en", ("which country are you from",)),
    Article("age", "How old are you", "en", ("what is your age", "when is your birthday")),
    Article("weather", "Weather", "en", ("will it rain today", "how hot is it outside")),
    Article("refund", "Refunds", "en", ("how do i get my money back",)),
    Article("delivery", "Delivery", "en", ("when will my parcel arrive",)),
]


@pytest.fixture(scope="module")
def model() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


class CountingEmbedder:
    """The real model, counting the texts it is asked to embed."""

    name = "counting"

    def __init__(self, inner: SentenceEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> FloatArray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def test_the_model_loads_from_its_package_with_the_network_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    loaded = WordLlamaEmbedder()
    rows = loaded.embed(["where is my parcel", "refund please"])
    assert rows.shape == (2, loaded.dim) and loaded.dim == 256
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def test_blank_text_is_a_zero_row_and_a_long_one_is_read_as_far_as_the_lexical_views(
    model: WordLlamaEmbedder,
) -> None:
    head = "where is my parcel " * 120
    rows = model.embed(["", "   ", head[:MAX_CHARS] + "x" * 50_000, head[:MAX_CHARS]])
    assert not rows[0].any() and not rows[1].any()
    assert np.allclose(rows[2], rows[3])


def test_the_score_is_the_lexical_score_plus_half_the_cosine_rescaled(
    model: WordLlamaEmbedder,
) -> None:
    lexical = KnowledgeIndex(ARTICLES)
    fused = KnowledgeIndex(ARTICLES, embedder=model)
    question = "what place were you born at"
    plain = {m.article_id: m.score for m in lexical.search(question, "en", limit=5)}
    mixed = {m.article_id: m.score for m in fused.search(question, "en", limit=5)}
    asked = model.embed([question])[0]
    weight = fused.params.embedding_weight
    for article in ARTICLES:
        centroid = normalise_rows(model.embed(phrasings(article)).sum(axis=0, keepdims=True))[0]
        expected = (plain[article.id] + weight * float(centroid @ asked)) / (1 + weight)
        assert mixed[article.id] == pytest.approx(max(0.0, expected), abs=1e-5)


def test_embeddings_bridge_a_paraphrase_that_shares_no_word(model: WordLlamaEmbedder) -> None:
    # "sunny" meets no stem or n-gram of the weather article that "rain" or "hot" would not
    # also give others; the embedding view widens the weather article's lead.
    question = "is it going to be sunny"
    lead = []
    for embedder in (None, model):
        top = KnowledgeIndex(ARTICLES, embedder=embedder).search(question, "en", limit=2)
        assert top[0].article_id == "weather"
        lead.append(top[0].score - top[1].score)
    assert lead[1] > lead[0]


def test_an_update_embeds_only_the_articles_it_brings(model: WordLlamaEmbedder) -> None:
    counting = CountingEmbedder(model)
    index = KnowledgeIndex(ARTICLES, embedder=counting)
    index.search("refund", "en")
    assert len(counting.texts) == sum(len(phrasings(a)) for a in ARTICLES) + 1
    counting.texts.clear()
    added = Article("size", "Size chart", "en", ("which size fits me", "sizing guide"))
    index.upsert([added])
    assert counting.texts == phrasings(added)
    index.remove(["refund"])
    index.rebuild()
    fresh = KnowledgeIndex([*(a for a in ARTICLES if a.id != "refund"), added], embedder=model)
    for question in ("which size should i order", "money back", "parcel late"):
        got = [(m.article_id, round(m.score, 5)) for m in index.search(question, "en", limit=5)]
        want = [(m.article_id, round(m.score, 5)) for m in fresh.search(question, "en", limit=5)]
        assert got == want
        assert "refund" not in {article_id for article_id, _ in got}


def test_an_unknown_model_or_a_missing_package_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_embedder("none") is None
    with pytest.raises(EmbeddingsUnavailable, match="use none or wordllama"):
        load_embedder("bert")
    real_find_spec = importlib.util.find_spec

    def without_wordllama(name: str, *args: Any) -> Any:
        return None if name == "wordllama" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_wordllama)
    config = tmp_path / "config.yaml"
    config.write_text("knowledge:\n  embeddings: wordllama\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    message = "\n".join(str(p) for p in raised.value.problems)
    assert "knowledge.embeddings" in message and "pip install 'nudge[embeddings]'" in message
    assert "config.yaml:2" in message


def test_thresholds_left_out_are_the_tuned_ones_of_the_ranking_in_use() -> None:
    lexical = configured_thresholds(KnowledgeSettings())
    assert (lexical.answer, lexical.choices) == (0.18, 0.14)
    embedded = configured_thresholds(KnowledgeSettings(embeddings="wordllama"))
    assert (embedded.answer, embedded.choices) == (0.20, 0.16)
    own = configured_thresholds(KnowledgeSettings(embeddings="wordllama", answer_threshold=0.3))
    assert (own.answer, own.choices) == (0.3, 0.16)


def test_kb_eval_with_embeddings_from_the_command_line(tmp_path: Path) -> None:
    rows = [
        {"id": "ship", "title": "Shipping", "examples": ["when will it ship"], "lang": "en"},
        {"id": "pay", "title": "Payment", "examples": ["can i pay by card"], "lang": "en"},
    ]
    (tmp_path / "kb.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    queries = [
        {"id": "q1", "text": "when does my order ship", "expected_id": "ship", "lang": "en"},
        {"id": "q2", "text": "tell me a joke", "expected_id": None, "lang": "en"},
    ]
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    command = [sys.executable, "-m", "bot", "kb", "eval", str(tmp_path), "--embeddings"]
    text = subprocess.run(
        [*command, "wordllama"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert text.returncode == 0, text.stderr
    assert "embeddings          wordllama" in text.stdout
    assert "'answer': 0.2," in text.stdout  # the embedding ranking's own defaults
    as_json = subprocess.run(
        [*command, "wordllama", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(as_json.stdout)
    assert report["in_scope_top1"] == 1.0 and report["oos_recall"] == 1.0
