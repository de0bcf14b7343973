"""The knowledge index: ranks KB articles for a customer question.

Score of an article for a question (about 0..1) = mean of
* word cosine: question vs the article's word centroid plus its learned correction
  (contrast.py), over stems and stem bigrams;
* char cosine: question vs the article's char n-gram centroid (typos, rare inflections);
* optionally (`knowledge.embeddings`), a sentence-embedding cosine with the article's mean
  phrasing embedding, added with weight `embedding_weight` and the sum rescaled to 0..1
  (embeddings.py): paraphrases that share no stem.

Updates are incremental. `upsert` featurises only the new articles, weighs them under the
current IDF snapshot and re-searches the offenders of only the rows they can affect. When the
rows changed since the snapshot pass `refreeze_fraction` of the KB, the IDF is re-snapshotted
and every stored vector is re-weighed (no re-tokenising), so that the index then equals one
built from scratch over the same articles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from bot.knowledge import contrast
from bot.knowledge.embeddings import SentenceEmbedder, normalise_rows
from bot.knowledge.entries import Entry, Spaces, count, derive, featurise, phrasings
from bot.knowledge.matrices import (
    Matrices,
    RowSet,
    assemble_rows,
    gather_scores,
    query_matrices,
)
from bot.knowledge.model import Article, Match
from bot.knowledge.terms import FloatArray, SparseVec
from bot.knowledge.text import tokens

EMBED_CHUNK = 500


@dataclass(frozen=True, slots=True)
class IndexParams:
    """Ranking hyper-parameters; the defaults were chosen on CLINC150 validation only."""

    contrast: contrast.ContrastParams = field(default_factory=contrast.ContrastParams)
    char_weight: float = 1.0
    unknown_weight: float = 1.0
    refreeze_fraction: float = 0.05
    # With an embedder: score = (lexical + w x embedding cosine) / (1 + w). 0.5 was the best
    # of 0.25-1.5 on CLINC150 validation (docs/knowledge-ranking.md).
    embedding_weight: float = 0.5


class KnowledgeIndex:
    def __init__(
        self,
        articles: Iterable[Article] = (),
        params: IndexParams | None = None,
        embedder: SentenceEmbedder | None = None,
    ):
        self.params = params or IndexParams()
        self.embedder = embedder
        # article id -> its mean phrasing embedding (unit length); kept per article so that an
        # update embeds only the articles it brings.
        self._embedded: dict[str, FloatArray] = {}
        self._spaces = Spaces()
        self._entries: dict[str, Entry] = {}
        self._slots: list[str | None] = []
        self._changed_rows = 0
        self._matrices: Matrices | None = None
        self._rows: RowSet | None = None  # assembled by the last update, reused by search
        self._derived = False
        self.upsert(articles)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._entries

    def articles(self) -> list[Article]:
        return [entry.article for entry in self._entries.values()]

    def upsert(self, articles: Iterable[Article]) -> None:
        """Add or replace articles (by id); the last of repeated ids wins."""
        batch = {article.id: article for article in articles}
        if not batch:
            return
        dead = self._drop([article_id for article_id in batch if article_id in self._entries])
        fresh = featurise(list(batch.values()), len(self._slots), self._spaces)
        for entry in fresh:
            self._slots.append(entry.article.id)
            self._entries[entry.article.id] = entry
        count(fresh, self._spaces, +1)
        self._embed([entry.article for entry in fresh])
        self._changed_rows += sum(entry.n_rows for entry in fresh)
        self._update(fresh, dead)

    def remove(self, article_ids: Iterable[str]) -> None:
        dead = self._drop([i for i in dict.fromkeys(article_ids) if i in self._entries])
        if dead:
            self._update([], dead)

    def rebuild(self) -> None:
        """Re-snapshot the IDF and re-derive every vector (no re-tokenising)."""
        self._derive_all()
        self._matrices = None

    def prepare(self) -> None:
        """Build the search matrices now (after a load or an update) rather than during the
        first customer's question: on a small KB that includes the fine-tuning step."""
        if self._entries and self._matrices is None:
            self._assemble()

    def search(self, text: str, lang: str | None = None, limit: int = 5) -> list[Match]:
        """Best articles first. `lang` picks the stemmer for the question and restricts the
        search to articles in that language when there are any."""
        if not self._entries or limit <= 0:
            return []
        mats = self._matrices or self._assemble()
        lang = lang or self._guess_lang(text)
        word_terms, char_terms = self._spaces.table.query_terms(tokens(text), lang)
        unknown = self.params.unknown_weight
        query_w = self._spaces.words.query(word_terms, unknown)
        query_c = self._spaces.chars.query(char_terms, unknown)
        scores = _combine(mats, query_w, query_c, self.params.char_weight)
        if self.embedder is not None and mats.embedded is not None:
            weight = self.params.embedding_weight
            semantic = mats.embedded @ self.embedder.embed([text])[0]
            scores = ((scores + weight * semantic) / (1.0 + weight)).astype(np.float32)
        allowed = mats.lang_mask(lang)
        scores[~allowed] = -np.inf
        count = min(limit, int(allowed.sum()))
        if count <= 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else None
        order = (
            top[np.argsort(-scores[top], kind="stable")]
            if top is not None
            else np.argsort(-scores, kind="stable")[:count]
        )
        return [Match(str(self._slots[s]), max(0.0, float(scores[s]))) for s in order]

    # -- internals -------------------------------------------------------------------------

    def _drop(self, article_ids: list[str]) -> list[int]:
        entries = [self._entries.pop(article_id) for article_id in article_ids]
        for article_id in article_ids:
            self._embedded.pop(article_id, None)
        count(entries, self._spaces, -1)
        for entry in entries:
            self._slots[entry.slot] = None
        self._changed_rows += sum(entry.n_rows for entry in entries)
        return [entry.slot for entry in entries]

    def _update(self, fresh: list[Entry], dead: list[int]) -> None:
        self._matrices = None
        self._rows = None
        total = max(1, self._spaces.words.rows)
        if self._changed_rows > self.params.refreeze_fraction * total or not self._derived:
            self._derive_all()
            return
        derive(fresh, self._spaces)
        self._rechallenge(fresh, dead)

    def _derive_all(self) -> None:
        """Compact the slots, snapshot IDF, weigh everything, search every offender."""
        self._spaces.words.freeze()
        self._spaces.chars.freeze()
        # Slots in id order: the result must not depend on the order articles arrived in.
        self._entries = dict(sorted(self._entries.items()))
        self._slots = list(self._entries)
        for slot, entry in enumerate(self._entries.values()):
            entry.slot = slot
        derive(list(self._entries.values()), self._spaces)
        rows = assemble_rows(self._entries.values(), len(self._slots), self._spaces)
        state = contrast.search_offenders(rows.rows, rows.gold_slots, rows.centroids, rows.live)
        rows.store(state, np.arange(rows.rows.shape[0]))
        self._rows = rows
        self._changed_rows = 0
        self._derived = True

    def _rechallenge(self, fresh: list[Entry], dead: list[int]) -> None:
        """Offender search for the rows an update can affect, and only for them."""
        rows = assemble_rows(self._entries.values(), len(self._slots), self._spaces)
        state = rows.state()
        new_slots = np.array([entry.slot for entry in fresh], dtype=np.int32)
        stale = np.isin(rows.gold_slots, new_slots) | np.isin(state.offender, dead)
        redo = np.flatnonzero(stale)
        keep = np.flatnonzero(~stale)
        kept = contrast.RowState(state.gold[keep], state.offender[keep], state.offender_score[keep])
        challenged = contrast.challenge(rows.rows[keep], kept, rows.centroids, new_slots)
        moved = np.flatnonzero(challenged.offender != kept.offender)
        rows.store(
            contrast.RowState(
                challenged.gold[moved],
                challenged.offender[moved],
                challenged.offender_score[moved],
            ),
            keep[moved],
        )
        if len(redo):
            found = contrast.search_offenders(
                rows.rows[redo], rows.gold_slots[redo], rows.centroids, rows.live
            )
            rows.store(found, redo)
        self._rows = rows

    def _assemble(self) -> Matrices:
        rows = self._rows or assemble_rows(self._entries.values(), len(self._slots), self._spaces)
        matrices = query_matrices(
            rows, len(self._slots), self._spaces, self.params.contrast, self.params.char_weight
        )
        if self.embedder is not None:
            matrices = replace(matrices, embedded=self._embedding_matrix())
        self._matrices = matrices
        self._rows = None  # its matrices are large; the query matrices are what is kept
        return matrices

    def _embed(self, articles: list[Article]) -> None:
        """Each article's phrasings embedded and averaged per article, EMBED_CHUNK articles
        per batch (one batch of 10,000 articles' phrasings would hold several copies of a
        110,000 x 256 array at once)."""
        if self.embedder is None:
            return
        for start in range(0, len(articles), EMBED_CHUNK):
            chunk = articles[start : start + EMBED_CHUNK]
            texts = [phrasings(article) or [article.body[:200]] for article in chunk]
            vectors = self.embedder.embed([text for rows in texts for text in rows])
            starts = np.cumsum([0, *(len(rows) for rows in texts[:-1])])
            means = normalise_rows(np.add.reduceat(vectors, starts, axis=0))
            for article, vector in zip(chunk, means, strict=True):
                self._embedded[article.id] = vector

    def _embedding_matrix(self) -> FloatArray:
        """Slots x dimensions in slot order; dead slots are zero rows (they score 0)."""
        assert self.embedder is not None
        first = next(iter(self._embedded.values()), None)
        dim = len(first) if first is not None else 0
        matrix = np.zeros((len(self._slots), dim), dtype=np.float32)
        for slot, article_id in enumerate(self._slots):
            if article_id is not None and article_id in self._embedded:
                matrix[slot] = self._embedded[article_id]
        return matrix

    def _guess_lang(self, text: str) -> str:
        for token in tokens(text[:200]):
            if "\u0400" <= token[0] <= "\u04ff":
                return "ru"
            if "\uac00" <= token[0] <= "\ud7a3":
                return "ko"
        langs = [e.article.lang for e in self._entries.values() if e.article.lang in ("en", "ro")]
        return max(set(langs), key=langs.count) if langs else "en"


def _combine(
    mats: Matrices, query_w: SparseVec, query_c: SparseVec, char_weight: float
) -> FloatArray:
    word = gather_scores(mats.word, query_w, mats.n_slots)
    char = gather_scores(mats.char, query_c, mats.n_slots)
    combined = (word + char_weight * char) / (1.0 + char_weight)
    return combined.astype(np.float32)
