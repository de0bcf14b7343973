"""One stored article (its featurised phrasings) and the vectorised steps over many."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.knowledge.model import Article
from bot.knowledge.rows import RowBlock, centroids, split_rows, stack_blocks, weighted_rows
from bot.knowledge.terms import FloatArray, IdArray, SparseVec, TermSpace
from bot.knowledge.text import tokens
from bot.knowledge.vocabulary import TokenTable

MAX_PHRASINGS = 200
"""An article is matched through its title and questions; past a few hundred phrasings more
of them only cost memory and time."""

Csr = Any


def phrasings(article: Article) -> list[str]:
    """The rows an article is matched by: its title (when it says something) and questions."""
    rows = [article.title] if article.title.strip() else []
    rows.extend(q for q in article.questions if q.strip())
    return rows[:MAX_PHRASINGS]


def _empty_f() -> FloatArray:
    return np.zeros(0, dtype=np.float32)


def _empty_i() -> IdArray:
    return np.zeros(0, dtype=np.int32)


@dataclass(slots=True)
class Entry:
    article: Article
    slot: int
    words: RowBlock
    tokens: RowBlock
    word_centroid: SparseVec = field(default_factory=SparseVec.empty)
    char_centroid: SparseVec = field(default_factory=SparseVec.empty)
    # Contrast state per row (see contrast.RowState), kept per entry so that rows can be
    # renumbered freely when the global matrices are re-assembled. Empty = not searched yet.
    gold: FloatArray = field(default_factory=_empty_f)
    offender: IdArray = field(default_factory=_empty_i)
    offender_score: FloatArray = field(default_factory=_empty_f)

    @property
    def n_rows(self) -> int:
        return self.words.n_rows


@dataclass(slots=True)
class Spaces:
    """The vocabularies an index owns."""

    words: TermSpace = field(default_factory=TermSpace)
    chars: TermSpace = field(default_factory=TermSpace)
    table: TokenTable = field(init=False)

    def __post_init__(self) -> None:
        self.table = TokenTable(self.words, self.chars)


def featurise(articles: Sequence[Article], first_slot: int, spaces: Spaces) -> list[Entry]:
    """Token ids of every phrasing (Python), then word term counts for the whole batch at
    once (numpy); grows the vocabularies, not the frequencies."""
    token_ids: list[int] = []
    token_lengths: list[int] = []
    row_counts: list[int] = []
    to_tokens, to_ids = tokens, spaces.table.token_ids
    for article in articles:
        texts = phrasings(article)
        row_counts.append(len(texts))
        for text in texts:
            ids = to_ids(to_tokens(text), article.lang)
            token_ids += ids
            token_lengths.append(len(ids))
    n_rows = len(token_lengths)
    flat = np.array(token_ids, dtype=np.int64)
    token_rows = np.repeat(np.arange(n_rows, dtype=np.int64), token_lengths)
    word_rows_of, word_ids = spaces.table.word_pairs(flat, token_rows)
    words = split_rows(word_rows_of, word_ids, n_rows, row_counts, distinct=True)
    token_blocks = split_rows(token_rows, flat, n_rows, row_counts, distinct=False)
    return [
        Entry(article, first_slot + n, word_block, token_block)
        for n, (article, word_block, token_block) in enumerate(
            zip(articles, words, token_blocks, strict=True)
        )
    ]


def count(
    entries: Sequence[Entry], spaces: Spaces, sign: int, char_counts: Csr | None = None
) -> Csr | None:
    """Add (1) or withdraw (-1) the entries' rows from the document frequencies; returns
    the entries' char counts (phrasings x n-grams) so that `derive` need not redo them."""
    if not entries:
        return None
    n_rows = sum(e.n_rows for e in entries)
    words = np.concatenate([e.words.ids for e in entries])
    spaces.words.add_counts(words, n_rows, sign)
    chars = char_counts if char_counts is not None else _char_counts(entries, spaces)
    spaces.chars.add_counts(chars.indices.astype(np.int32), n_rows, sign)
    return chars


def _char_counts(entries: Sequence[Entry], spaces: Spaces) -> Csr:
    tokens_matrix = stack_blocks([e.tokens for e in entries], len(spaces.table))
    counts = spaces.table.char_counts(tokens_matrix.indices.astype(np.int64), tokens_matrix.indptr)
    counts.resize((counts.shape[0], len(spaces.chars)))
    return counts


def word_rows(entries: Sequence[Entry], spaces: Spaces) -> Csr:
    """Weighted word rows of the entries (current IDF snapshot)."""
    counts = stack_blocks([e.words for e in entries], len(spaces.words))
    return weighted_rows(counts, spaces.words.idf())


def derive(entries: Sequence[Entry], spaces: Spaces, char_counts: Csr | None = None) -> None:
    """Word and char centroids of the entries under the current IDF snapshots."""
    if not entries:
        return
    owners = np.repeat(np.arange(len(entries), dtype=np.int32), [e.n_rows for e in entries])
    word = centroids(word_rows(entries, spaces), owners, len(entries))
    chars = char_counts if char_counts is not None else _char_counts(entries, spaces)
    chars.resize((chars.shape[0], len(spaces.chars)))
    char = centroids(weighted_rows(chars, spaces.chars.idf()), owners, len(entries))
    for position, entry in enumerate(entries):
        entry.word_centroid = _row(word, position)
        entry.char_centroid = _row(char, position)


def _row(matrix: Csr, position: int) -> SparseVec:
    # Views into the batch's centroid matrix: one allocation instead of 20,000 small ones.
    start, stop = matrix.indptr[position], matrix.indptr[position + 1]
    return SparseVec(matrix.indices[start:stop], matrix.data[start:stop])
