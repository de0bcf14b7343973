"""Global sparse matrices assembled from the stored entries, and query-time scoring."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.knowledge import contrast
from bot.knowledge.entries import Entry, Spaces, char_rows, word_rows
from bot.knowledge.terms import FloatArray, IdArray, SparseVec

Csr = Any


def stack(vectors: Sequence[SparseVec], n_cols: int) -> Csr:
    """One CSR row per sparse vector."""
    lengths = np.fromiter((len(v.ids) for v in vectors), dtype=np.int64, count=len(vectors))
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    if len(vectors) and indptr[-1]:
        indices = np.concatenate([v.ids for v in vectors])
        data = np.concatenate([v.vals for v in vectors])
    else:
        indices = np.zeros(0, dtype=np.int32)
        data = np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(vectors), n_cols))


def _by_slot(entries: Sequence[Entry], n_slots: int, pick: str, n_cols: int) -> Csr:
    """Centroids in slot order; dead slots stay empty rows."""
    vectors = [SparseVec.empty()] * n_slots
    for entry in entries:
        vectors[entry.slot] = getattr(entry, pick)
    return stack(vectors, n_cols)


@dataclass(slots=True)
class RowSet:
    """Every stored row, with what the contrast step needs, and a way to write state back."""

    entries: list[Entry]
    rows: Csr
    gold_slots: IdArray
    centroids: Csr
    live: npt.NDArray[np.bool_]
    bounds: npt.NDArray[np.int64]

    def state(self) -> contrast.RowState:
        def cat(name: str, dtype: type) -> Any:
            parts = [getattr(e, name) for e in self.entries]
            blank = [
                np.zeros(e.n_rows, dtype=dtype) if len(p) != e.n_rows else p
                for e, p in zip(self.entries, parts, strict=True)
            ]
            return np.concatenate(blank) if blank else np.zeros(0, dtype=dtype)

        return contrast.RowState(
            cat("gold", np.float32), cat("offender", np.int32), cat("offender_score", np.float32)
        )

    def store(self, state: contrast.RowState, where: npt.NDArray[np.int64]) -> None:
        """Write the state of rows `where` (global row numbers) back to their entries."""
        if len(where) == self.bounds[-1] and np.array_equal(where, np.arange(len(where))):
            for entry, lo, hi in zip(self.entries, self.bounds[:-1], self.bounds[1:], strict=True):
                entry.gold = state.gold[lo:hi].copy()
                entry.offender = state.offender[lo:hi].copy()
                entry.offender_score = state.offender_score[lo:hi].copy()
            return
        if not len(where):
            return
        owner = np.searchsorted(self.bounds, where, side="right") - 1
        order = np.argsort(owner, kind="stable")
        where, owner = where[order], owner[order]
        gold, offender, score = (
            state.gold[order],
            state.offender[order],
            state.offender_score[order],
        )
        positions, firsts = np.unique(owner, return_index=True)
        for position, lo, hi in zip(positions, firsts, [*firsts[1:], len(owner)], strict=True):
            entry = self.entries[position]
            local = where[lo:hi] - self.bounds[position]
            if len(entry.gold) != entry.n_rows:
                entry.gold = np.zeros(entry.n_rows, dtype=np.float32)
                entry.offender = np.full(entry.n_rows, -1, dtype=np.int32)
                entry.offender_score = np.zeros(entry.n_rows, dtype=np.float32)
            entry.gold[local] = gold[lo:hi]
            entry.offender[local] = offender[lo:hi]
            entry.offender_score[local] = score[lo:hi]


def assemble_rows(entries: Iterable[Entry], n_slots: int, spaces: Spaces) -> RowSet:
    listed = list(entries)
    sizes = np.fromiter((e.n_rows for e in listed), dtype=np.int64, count=len(listed))
    bounds = np.zeros(len(listed) + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    slots = np.fromiter((e.slot for e in listed), dtype=np.int32, count=len(listed))
    live = np.zeros(n_slots, dtype=bool)
    live[slots] = True
    return RowSet(
        listed,
        word_rows(listed, spaces),
        np.repeat(slots, sizes).astype(np.int32),
        _by_slot(listed, n_slots, "word_centroid", len(spaces.words)),
        live,
        bounds,
    )


@dataclass(frozen=True, slots=True)
class Matrices:
    """Feature-major (inverted) matrices used to score questions."""

    word: Csr
    char: Csr
    n_slots: int
    langs: tuple[str, ...]
    live: npt.NDArray[np.bool_]
    embedded: FloatArray | None = None  # slots x dims, with an embedder (embeddings.py)

    def lang_mask(self, lang: str) -> npt.NDArray[np.bool_]:
        same = self.live & (np.array(self.langs, dtype=object) == lang)
        return same if same.any() else self.live


def query_matrices(
    rows: RowSet,
    n_slots: int,
    spaces: Spaces,
    params: contrast.ContrastParams,
    char_weight: float = 1.0,
) -> Matrices:
    delta = contrast.correction(rows.rows, rows.gold_slots, rows.state(), rows.centroids, params)
    word = (rows.centroids + delta).T.tocsr()
    char = _by_slot(rows.entries, n_slots, "char_centroid", len(spaces.chars)).T.tocsr()
    word, char = _fine_tuned(rows, word, char, spaces, params, char_weight)
    langs = [""] * n_slots
    for entry in rows.entries:
        langs[entry.slot] = entry.article.lang
    return Matrices(word, char, n_slots, tuple(langs), rows.live)


def _fine_tuned(
    rows: RowSet,
    word: Csr,
    char: Csr,
    spaces: Spaces,
    params: contrast.ContrastParams,
    char_weight: float,
) -> tuple[Csr, Csr]:
    """Small KBs: the word and char matrices fine-tuned jointly as one softmax regression
    over the combined score (contrast.fine_tune); large ones are returned as they are."""
    n_rows, n_slots = rows.rows.shape[0], word.shape[1]
    if char_weight <= 0 or n_rows * n_slots > params.tune_cells:
        return word, char
    word_share, char_share = 1.0 / (1.0 + char_weight), char_weight / (1.0 + char_weight)
    weights = sp.vstack([word * word_share, char * char_share]).tocsr()
    features = sp.hstack([rows.rows, char_rows(rows.entries, spaces)]).tocsr()
    tuned = contrast.fine_tune(weights, features, rows.gold_slots, rows.live, params)
    if tuned is None:
        return word, char
    n_word = word.shape[0]
    return (tuned[:n_word] * (1.0 / word_share)).tocsr(), (
        tuned[n_word:] * (1.0 / char_share)
    ).tocsr()


def gather_scores(matrix: Csr, query: SparseVec, n_slots: int) -> FloatArray:
    """query . matrix[:, slot] for every slot, reading only the query's feature rows."""
    if len(query.ids) == 0:
        return np.zeros(n_slots, dtype=np.float32)
    indptr = matrix.indptr
    starts = indptr[query.ids]
    lengths = indptr[query.ids + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(n_slots, dtype=np.float32)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    weights = np.repeat(query.vals, lengths) * matrix.data[offsets]
    scores = np.bincount(matrix.indices[offsets], weights=weights, minlength=n_slots)
    return scores.astype(np.float32)
