"""Compact storage of featurised phrasings and their vectorised weighting.

Memory matters at 10,000 articles (110,000 phrasings): one numpy array per phrasing would
cost more in object headers than in data. So an article keeps two CSR-like blocks:

* word counts per phrasing (stems and stem bigrams);
* surface-token ids per phrasing. Char n-grams are never stored per phrasing: a phrasing's
  char counts are its tokens' rows of one shared token -> n-gram table (`TokenTable`), so
  they are recomputed exactly, by one sparse product, whenever they are needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.knowledge.terms import FloatArray, IdArray

Csr = Any  # scipy.sparse matrices carry no type information
Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class RowBlock:
    """Rows of (id, count) pairs: row r is ids[ptr[r]:ptr[r+1]]."""

    ptr: npt.NDArray[np.int64]
    ids: IdArray
    counts: FloatArray

    @property
    def n_rows(self) -> int:
        return len(self.ptr) - 1

    @staticmethod
    def of(rows: Sequence[tuple[IdArray, FloatArray]]) -> RowBlock:
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(ids) for ids, _ in rows], out=ptr[1:])
        if not rows or ptr[-1] == 0:
            return RowBlock(ptr, np.zeros(0, np.int32), np.zeros(0, np.float32))
        ids = np.concatenate([ids for ids, _ in rows]).astype(np.int32)
        counts = np.concatenate([c for _, c in rows]).astype(np.float32)
        return RowBlock(ptr, ids, counts)


def split_rows(
    row_of: Int64Array, ids: Int64Array, n_rows: int, rows_per_block: Sequence[int], distinct: bool
) -> list[RowBlock]:
    """Cut (row, id) pairs, rows ascending, into one block per article (`rows_per_block`).
    With `distinct`, repeated ids within a row become one id with a count."""
    if distinct and len(ids):
        keys, counts = np.unique(row_of * (1 << 32) + ids, return_counts=True)
        row_of, ids = keys >> 32, keys & 0xFFFFFFFF
    else:
        counts = np.ones(len(ids), dtype=np.int64)
    row_ptr = np.searchsorted(row_of, np.arange(n_rows + 1), side="left")
    block_ptr = np.zeros(len(rows_per_block) + 1, dtype=np.int64)
    np.cumsum(rows_per_block, out=block_ptr[1:])
    ids32, counts32 = ids.astype(np.int32), counts.astype(np.float32)
    blocks = []
    for first, last in itertools.pairwise(block_ptr):
        start, stop = row_ptr[first], row_ptr[last]
        ptr = row_ptr[first : last + 1] - start
        # Views into one array per batch: 10,000 small copies cost more than they save.
        blocks.append(RowBlock(ptr, ids32[start:stop], counts32[start:stop]))
    return blocks


def stack_blocks(blocks: Sequence[RowBlock], n_cols: int) -> Csr:
    """All rows of all blocks, in order, as one CSR matrix."""
    if not blocks:
        return sp.csr_matrix((0, n_cols), dtype=np.float32)
    sizes = [b.ptr[1:] for b in blocks]
    offsets = np.cumsum([0] + [int(b.ptr[-1]) for b in blocks[:-1]])
    ptr = np.concatenate([[0]] + [s + o for s, o in zip(sizes, offsets, strict=True)])
    ids = np.concatenate([b.ids for b in blocks])
    counts = np.concatenate([b.counts for b in blocks])
    return sp.csr_matrix((counts, ids, ptr), shape=(len(ptr) - 1, n_cols))


def _row_norms(matrix: Csr) -> FloatArray:
    norms = np.ones(matrix.shape[0], dtype=np.float32)
    starts = matrix.indptr[:-1]
    filled = np.flatnonzero(np.diff(matrix.indptr))
    if len(filled):
        squares = np.add.reduceat(np.square(matrix.data, dtype=np.float32), starts[filled])
        norms[filled] = np.sqrt(squares)
    norms[norms == 0] = 1.0
    return norms


def weighted_rows(counts: Csr, idf: FloatArray) -> Csr:
    """Sublinear tf x idf, each row L2-normalised, computed in place: `counts` is consumed
    (at 10,000 articles the char counts alone are ~100 MB; a copy would double the peak).
    `counts` must hold no duplicate entries (sparse products and `split_rows` never make any)."""
    data = counts.data
    if data.dtype != np.float32:
        data = counts.data = data.astype(np.float32)
    np.log(data, out=data)
    data += 1.0
    for start in range(0, len(data), _SLICE):  # slices keep the temporaries small
        data[start : start + _SLICE] *= idf[counts.indices[start : start + _SLICE]]
    _scale_rows(counts, 1.0 / _row_norms(counts))
    return counts


_SLICE = 1 << 20


def _scale_rows(matrix: Csr, factors: FloatArray) -> None:
    """matrix[r] *= factors[r], in place, a slice of rows at a time."""
    indptr = matrix.indptr
    step = max(1, _SLICE * max(1, matrix.shape[0]) // max(1, len(matrix.data)))
    for first in range(0, matrix.shape[0], step):
        last = min(matrix.shape[0], first + step)
        lo, hi = indptr[first], indptr[last]
        matrix.data[lo:hi] *= np.repeat(factors[first:last], np.diff(indptr[first : last + 1]))


def centroids(rows: Csr, owners: IdArray, n_owners: int) -> Csr:
    """Normalised sum of the (normalised) rows of each owner."""
    indicator = sp.csr_matrix(
        (np.ones(len(owners), np.float32), (owners, np.arange(len(owners)))),
        shape=(n_owners, len(owners)),
    )
    sums = (indicator @ rows).tocsr()
    _scale_rows(sums, 1.0 / _row_norms(sums))
    return sums
