"""Surface tokens and what they stand for: word terms and char n-grams.

Every distinct (language, token) is analysed once: its stems (word term ids) and its char
n-grams (char term ids). A phrasing is then stored as token ids only, and its word and char
features are derived with numpy for whole batches: at 100,000 phrasings the Python per-term
work was most of the build time. Word bigrams are keyed by the pair of their unigram ids
(an int), so that they, too, are made without building strings.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.knowledge.terms import TermSpace
from bot.knowledge.text import char_terms, word_terms

Csr = Any  # scipy.sparse matrix
Int64Array = npt.NDArray[np.int64]


def pair_key(first: int, second: int) -> int:
    return (first << 32) | second


class _Ragged:
    """Rows of ints that only grow, readable as (ptr, flat) numpy arrays; rows added since
    the last read are converted alone (an upsert adds a few tokens to 20,000)."""

    def __init__(self) -> None:
        self._ptr = np.zeros(1, dtype=np.int64)
        self._flat = np.zeros(0, dtype=np.int64)
        self._pending: list[list[int]] = []

    def __len__(self) -> int:
        return len(self._ptr) - 1 + len(self._pending)

    def append(self, row: list[int]) -> None:
        self._pending.append(row)

    def arrays(self) -> tuple[Int64Array, Int64Array]:
        if self._pending:
            lengths = np.array([len(r) for r in self._pending], dtype=np.int64)
            added = np.array([i for r in self._pending for i in r], dtype=np.int64)
            self._ptr = np.concatenate([self._ptr, self._ptr[-1] + np.cumsum(lengths)])
            self._flat = np.concatenate([self._flat, added])
            self._pending = []
        return self._ptr, self._flat


class TokenTable:
    def __init__(self, words: TermSpace, chars: TermSpace) -> None:
        self._words = words
        self._chars = chars
        self._ids: dict[str, dict[str, int]] = {}
        self._terms = _Ragged()  # token -> word term ids
        self._grams = _Ragged()  # token -> char n-gram ids (repeats kept)
        self._gram_matrix: Csr | None = None

    def __len__(self) -> int:
        return len(self._terms)

    def token_ids(self, tokens: Sequence[str], lang: str) -> list[int]:
        """Ids of the tokens (added when new), with repeats."""
        table = self._ids.setdefault(lang, {})
        known = table.get
        ids = [known(token, -1) for token in tokens]
        if -1 in ids:
            ids = [self._add(t, lang) if i < 0 else i for t, i in zip(tokens, ids, strict=True)]
        return ids

    def _add(self, token: str, lang: str) -> int:
        table = self._ids[lang]
        token_id = table.get(token)
        if token_id is None:
            words, chars = self._words.ids, self._chars.ids
            token_id = table[token] = len(self._terms)
            self._terms.append([words.setdefault(t, len(words)) for t in word_terms(token, lang)])
            # Repeated n-grams stay repeated: the sparse product sums them into counts.
            self._grams.append([chars.setdefault(g, len(chars)) for g in char_terms(token)])
            self._gram_matrix = None
        return token_id

    def word_pairs(self, tokens: Int64Array, rows: Int64Array) -> tuple[Int64Array, Int64Array]:
        """(row, word term id) for stored token rows: each token's stems, then the bigrams
        of consecutive stems within a row (new bigrams get ids)."""
        ptr, flat = self._terms.arrays()
        starts, lengths = ptr[tokens], ptr[tokens + 1] - ptr[tokens]
        total = int(lengths.sum())
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        terms, term_rows = flat[offsets], np.repeat(rows, lengths)
        same = term_rows[:-1] == term_rows[1:]
        keys = (terms[:-1][same] << 32) | terms[1:][same]
        unique, inverse = np.unique(keys, return_inverse=True)
        vocab = self._words.ids
        mapped = np.fromiter(
            (vocab.setdefault(int(k), len(vocab)) for k in unique), np.int64, len(unique)
        )
        ids = np.concatenate([terms, mapped[inverse]])
        return np.concatenate([term_rows, term_rows[:-1][same]]), ids

    def char_counts(self, tokens: Int64Array, ptr: Int64Array) -> Csr:
        """phrasings x char n-grams counts for stored token rows."""
        if self._gram_matrix is None or self._gram_matrix.shape[1] != len(self._chars):
            gram_ptr, flat = self._grams.arrays()
            ones = np.ones(len(flat), dtype=np.float32)
            shape = (len(self._grams), len(self._chars))
            self._gram_matrix = sp.csr_matrix((ones, flat.astype(np.int32), gram_ptr), shape=shape)
        rows = sp.csr_matrix(
            (np.ones(len(tokens), np.float32), tokens, ptr),
            shape=(len(ptr) - 1, len(self._grams)),
        )
        return (rows @ self._gram_matrix).tocsr()

    def query_terms(
        self, tokens: Sequence[str], lang: str
    ) -> tuple[list[str | int | None], list[str]]:
        """A question's word keys (unigram terms, bigram keys; None = a bigram that cannot
        exist in the KB) and char n-grams. Nothing is added to the vocabularies."""
        vocab = self._words.ids
        unigrams: list[str] = []
        for token in tokens:
            unigrams.extend(word_terms(token, lang))
        ids = [vocab.get(term) for term in unigrams]
        bigrams: list[str | int | None] = [
            pair_key(a, b) if a is not None and b is not None else None
            for a, b in itertools.pairwise(ids)
        ]
        grams = [gram for token in tokens for gram in char_terms(token)]
        return [*unigrams, *bigrams], grams
