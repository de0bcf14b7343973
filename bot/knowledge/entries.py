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

    n_rows: int = 0  # phrasings; a plain field because it is read 100,000s of times

    def __post_init__(self) -> None:
        self.n_rows = self.words.n_rows


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


CHUNK_ENTRIES = 1000
"""Char counts are made for this many articles at a time: for 10,000 articles all at once
they would be the largest object of the build (~100 MB) for no gain in speed."""


def _chunks(entries: Sequence[Entry]) -> list[Sequence[Entry]]:
    return [entries[i : i + CHUNK_ENTRIES] for i in range(0, len(entries), CHUNK_ENTRIES)]


def count(entries: Sequence[Entry], spaces: Spaces, sign: int) -> None:
    """Add (1) or withdraw (-1) the entries' rows from the document frequencies."""
    if not entries:
        return
    n_rows = sum(e.n_rows for e in entries)
    words = np.concatenate([e.words.ids for e in entries])
    spaces.words.add_counts(words, n_rows, sign)
    for chunk in _chunks(entries):
        spaces.chars.add_counts(_char_counts(chunk, spaces).indices, 0, sign)
    spaces.chars.rows += sign * n_rows


def _char_counts(entries: Sequence[Entry], spaces: Spaces) -> Csr:
    tokens_matrix = stack_blocks([e.tokens for e in entries], len(spaces.table))
    counts = spaces.table.char_counts(tokens_matrix.indices.astype(np.int64), tokens_matrix.indptr)
    counts.resize((counts.shape[0], len(spaces.chars)))
    return counts


def word_rows(entries: Sequence[Entry], spaces: Spaces) -> Csr:
    """Weighted word rows of the entries (current IDF snapshot)."""
    counts = stack_blocks([e.words for e in entries], len(spaces.words))
    return weighted_rows(counts, spaces.words.idf())


def char_rows(entries: Sequence[Entry], spaces: Spaces) -> Csr:
    """Weighted char rows of the entries (current IDF snapshot)."""
    return weighted_rows(_char_counts(entries, spaces), spaces.chars.idf())


def derive(entries: Sequence[Entry], spaces: Spaces) -> None:
    """Word and char centroids of the entries under the current IDF snapshots."""
    if not entries:
        return
    owners = np.repeat(np.arange(len(entries), dtype=np.int32), [e.n_rows for e in entries])
    word = centroids(word_rows(entries, spaces), owners, len(entries))
    for position, entry in enumerate(entries):
        entry.word_centroid = _row(word, position)
    idf = spaces.chars.idf()
    for chunk in _chunks(entries):
        owners = np.repeat(np.arange(len(chunk), dtype=np.int32), [e.n_rows for e in chunk])
        char = centroids(weighted_rows(_char_counts(chunk, spaces), idf), owners, len(chunk))
        for position, entry in enumerate(chunk):
            entry.char_centroid = _row(char, position)


def _row(matrix: Csr, position: int) -> SparseVec:
    # Views into the batch's centroid matrix: one allocation instead of 20,000 small ones.
    start, stop = matrix.indptr[position], matrix.indptr[position + 1]
    return SparseVec(matrix.indices[start:stop], matrix.data[start:stop])
