"""Term spaces: term -> id, document frequencies, IDF, and sparse weighted vectors.

There are two spaces per index (word terms and char n-grams). A vector is a pair of arrays
(term ids, weights), sorted by id. Weighting is the classic sublinear tf x smooth idf, each
row L2-normalised, because it is what ranked best on the CLINC150 validation split among
raw tf, binary, idf on one side only and class-level idf (see docs/knowledge-ranking.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]

_EMPTY_IDS: IdArray = np.zeros(0, dtype=np.int32)
_EMPTY_VALS: FloatArray = np.zeros(0, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class SparseVec:
    ids: IdArray
    vals: FloatArray

    @staticmethod
    def empty() -> SparseVec:
        return SparseVec(_EMPTY_IDS, _EMPTY_VALS)


def normalised(vec: SparseVec) -> SparseVec:
    norm = float(np.sqrt(np.dot(vec.vals, vec.vals)))
    if norm == 0.0:
        return vec
    return SparseVec(vec.ids, (vec.vals / norm).astype(np.float32))


def summed(vectors: Sequence[SparseVec]) -> SparseVec:
    """The sum of sparse vectors (ids merged)."""
    if not vectors:
        return SparseVec.empty()
    ids = np.concatenate([v.ids for v in vectors])
    vals = np.concatenate([v.vals for v in vectors])
    unique, inverse = np.unique(ids, return_inverse=True)
    total = np.bincount(inverse, weights=vals, minlength=len(unique)).astype(np.float32)
    return SparseVec(unique.astype(np.int32), total)


class TermSpace:
    """Term ids and row document frequencies for one kind of feature.

    IDF is read from a snapshot (`freeze`), not from the live counts, so that adding one
    article does not silently change the weights of every other stored vector; the index
    re-freezes when enough rows changed (see KnowledgeIndex). Terms first seen after the
    snapshot get an IDF from the counts at the moment they are first weighted.
    """

    def __init__(self) -> None:
        # str keys: terms; int keys: word bigrams (see vocabulary.TokenTable).
        self.ids: dict[str | int, int] = {}
        self._df = np.zeros(1024, dtype=np.float64)
        self.rows = 0
        self._idf = np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def query(self, terms: Iterable[str | int | None], unknown_weight: float) -> SparseVec:
        """A question's vector: like `weigh`, but terms that no stored row has (never seen,
        or only in removed articles) cannot match; they still count in the norm, at the
        IDF of a term seen once times `unknown_weight`, so that a question mostly made of
        words the KB never uses scores low (an out-of-scope signal)."""
        counts = Counter(terms)
        known: list[tuple[int, int]] = []
        unknown = 0.0
        for term, n in counts.items():
            term_id = None if term is None else self.ids.get(term)
            if term_id is None or self._df[term_id] <= 0:
                unknown += (1.0 + np.log(n)) ** 2
            else:
                known.append((term_id, n))
        if not known:
            return SparseVec.empty()
        known.sort()
        ids = np.fromiter((p[0] for p in known), dtype=np.int32, count=len(known))
        tf = np.fromiter((p[1] for p in known), dtype=np.float32, count=len(known))
        vals = (1.0 + np.log(tf)) * self.idf()[ids]
        rare = (np.log((self.rows + 1.0) / 2.0) + 1.0) * unknown_weight
        norm = float(np.sqrt(np.dot(vals, vals) + unknown * rare * rare))
        return SparseVec(ids, (vals / norm).astype(np.float32))

    def add_counts(self, ids: IdArray, n_rows: int, sign: int) -> None:
        """Count (sign=1) or discount (sign=-1) rows; `ids` holds each row's distinct terms,
        concatenated."""
        if len(self.ids) > len(self._df):
            grown = np.zeros(max(len(self.ids), 2 * len(self._df)), dtype=np.float64)
            grown[: len(self._df)] = self._df
            self._df = grown
        counted = np.bincount(ids, minlength=len(self._df))
        self._df[: len(counted)] += sign * counted[: len(self._df)]
        self.rows += sign * n_rows

    def _idf_of(self, start: int, stop: int) -> FloatArray:
        df = self._df[start:stop]
        idf = np.log((self.rows + 1.0) / (df + 1.0)) + 1.0
        return idf.astype(np.float32)

    def freeze(self) -> None:
        """Take a new IDF snapshot from the live counts."""
        self._idf = self._idf_of(0, len(self.ids))

    def idf(self) -> FloatArray:
        if len(self._idf) < len(self.ids):
            self._idf = np.concatenate([self._idf, self._idf_of(len(self._idf), len(self.ids))])
        return self._idf

    def weigh(self, ids: IdArray, tf: FloatArray) -> SparseVec:
        """Sublinear tf x idf, L2-normalised."""
        if len(ids) == 0:
            return SparseVec.empty()
        vals = (1.0 + np.log(tf)) * self.idf()[ids]
        return normalised(SparseVec(ids, vals.astype(np.float32)))
