"""The learned part of the ranking: a one-pass contrastive correction of the word centroids.

Centroid ranking (an article = the normalised mean of its phrasings) ignores that some words
are shared with a neighbouring article ("card" in both "card declined" and "credit limit").
A discriminative model fixes that, but a full softmax regression costs rows x articles x
features per epoch and cannot be updated one article at a time. What is kept here is one
pass of a margin perceptron started from the centroids, in batch form:

* every KB phrasing (row) finds its strongest other article, the "offender", by centroid
  cosine over the word features;
* when the row's own article does not win by `margin`, the row's features are added (x eta)
  to its own article and subtracted from the offender, restricted to features the article
  already has, so an article's vector stays as sparse as its phrasings.

On the CLINC150 validation split this gives most of what a full logistic regression gives
(never-reject top-1 81-82 % against 83 %, centroids alone 79 %) for one sparse product.
Because the correction is linear in the per-row (offender, violated) state, an upsert only
re-searches the offenders of the rows it can affect, then re-derives the correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bot.knowledge.terms import FloatArray, IdArray

Csr = Any  # scipy.sparse.csr_matrix; scipy ships no type information
WORK_BUDGET = 20_000_000
"""Multiply-adds allowed for one offender search. Small KBs never reach it; for thousands of
articles the most common word features are left out of the search (not out of scoring)."""
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True, slots=True)
class ContrastParams:
    eta: float = 0.1
    margin: float = 0.25
    # Softmax fine-tuning of small KBs (see `fine_tune`); chosen on CLINC150 validation.
    tune_scale: float = 20.0
    tune_l2: float = 3.0
    tune_steps: int = 10
    tune_rate: float = 0.001
    tune_momentum: float = 0.9
    tune_cells: int = 500_000
    """Fine-tune only while rows x articles and features x articles stay below this (x 6
    for features): a few thousand phrasings. Larger KBs keep the one-pass correction."""


@dataclass(slots=True)
class RowState:
    """Per KB row: score of its own article, its offender slot (-1: none) and that score."""

    gold: FloatArray
    offender: IdArray
    offender_score: FloatArray


def _kept_features(rows: Csr, centroids_t: Csr) -> npt.NDArray[np.bool_]:
    """Features used by the offender search: all, unless the work exceeds the budget; then
    the ones in most articles go first (they carry the least IDF anyway)."""
    df = np.diff(centroids_t.indptr).astype(np.float64)
    usage = np.bincount(rows.indices, minlength=len(df)).astype(np.float64)
    work = usage * df
    order = np.argsort(-df, kind="stable")
    remaining = float(work.sum()) - np.cumsum(work[order])
    drop = int(np.searchsorted(-remaining, -WORK_BUDGET)) + 1 if work.sum() > WORK_BUDGET else 0
    keep = np.ones(len(df), dtype=bool)
    keep[order[:drop]] = False
    return keep


def _row_dots(rows: Csr, centroids: Csr, slots: IdArray) -> FloatArray:
    """Cosine of each row with the centroid of the given slot (-1 gives 0), by looking each
    row term up in the centroids (sorted keys): gathering the 100,000 centroid rows into one
    matrix would cost more memory than the index keeps."""
    if not centroids.has_sorted_indices:
        centroids = centroids.sorted_indices()
    width = np.int64(centroids.shape[1])
    owner = np.repeat(np.arange(centroids.shape[0], dtype=np.int64), np.diff(centroids.indptr))
    known = owner * width + centroids.indices
    row_of = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    slot = slots[row_of].astype(np.int64)
    wanted = slot * width + rows.indices
    at = np.minimum(np.searchsorted(known, wanted), max(0, len(known) - 1))
    hit = (slot >= 0) & (known[at] == wanted) if len(known) else np.zeros(len(wanted), bool)
    products = np.where(hit, centroids.data[at] * rows.data, 0.0)
    dots = np.bincount(row_of, weights=products, minlength=rows.shape[0])
    return dots.astype(np.float32)


def _best_other(scores: Csr, gold: IdArray, dead: npt.NDArray[np.bool_]) -> IdArray:
    """Per row, the column with the highest positive score that is not its own or dead."""
    counts = np.diff(scores.indptr)
    row_of = np.repeat(np.arange(scores.shape[0]), counts)
    data = scores.data.astype(np.float64)
    data[(scores.indices == gold[row_of]) | dead[scores.indices] | (data <= 0)] = -np.inf
    best = np.full(scores.shape[0], -1, dtype=np.int32)
    nonempty = np.flatnonzero(counts)
    if not len(nonempty):
        return best
    # Rows are contiguous in CSR data: a max per row, then the first entry reaching it.
    row_max = np.full(scores.shape[0], -np.inf)
    row_max[nonempty] = np.maximum.reduceat(data, scores.indptr[nonempty])
    hits = np.flatnonzero((data == row_max[row_of]) & np.isfinite(data))
    firsts = hits[np.r_[True, np.diff(row_of[hits]) > 0]] if len(hits) else hits
    best[row_of[firsts]] = scores.indices[firsts]
    return best


def search_offenders(rows: Csr, gold_slots: IdArray, centroids: Csr, live: Any) -> RowState:
    """Full offender search for the given rows against every live slot."""
    n_rows, n_slots = rows.shape[0], centroids.shape[0]
    centroids_t = centroids.T.tocsr()
    keep = _kept_features(rows, centroids_t)
    pruned = rows if keep.all() else (rows @ sp.diags(keep.astype(np.float32))).tocsr()
    dead = ~np.asarray(live, dtype=bool)
    offender = np.full(n_rows, -1, dtype=np.int32)
    step = max(1, _CHUNK_CELLS // max(1, n_slots))
    for start in range(0, n_rows, step):
        stop = min(n_rows, start + step)
        scores = (pruned[start:stop] @ centroids_t).tocsr()
        offender[start:stop] = _best_other(scores, gold_slots[start:stop], dead)
    gold = _row_dots(rows, centroids, gold_slots)
    return RowState(gold, offender, _row_dots(rows, centroids, offender))


def challenge(rows: Csr, state: RowState, centroids: Csr, slots: IdArray) -> RowState:
    """Let newly stored slots take over as offender of the rows they now beat."""
    if len(slots) == 0 or rows.shape[0] == 0:
        return state
    scores = (rows @ centroids[slots].T).toarray()
    best = scores.argmax(axis=1)
    best_score = scores[np.arange(rows.shape[0]), best].astype(np.float32)
    wins = best_score > state.offender_score
    offender = np.where(wins, slots[best], state.offender).astype(np.int32)
    offender_score = np.where(wins, best_score, state.offender_score).astype(np.float32)
    return RowState(state.gold, offender, offender_score)


def correction(
    rows: Csr, gold_slots: IdArray, state: RowState, centroids: Csr, params: ContrastParams
) -> Csr:
    """The (slots x features) correction added to the word centroids."""
    n_rows = rows.shape[0]
    violated = (state.offender >= 0) & (state.gold - state.offender_score < params.margin)
    index = np.flatnonzero(violated)
    row_ids = np.concatenate([index, index])
    slot_ids = np.concatenate([gold_slots[index], state.offender[index]])
    signs = np.concatenate([np.full(len(index), params.eta), np.full(len(index), -params.eta)])
    updates = sp.csr_matrix(
        (signs.astype(np.float32), (slot_ids, row_ids)), shape=(centroids.shape[0], n_rows)
    )
    delta = (updates @ rows).tocsr()
    support = centroids.copy()
    support.data = np.ones_like(support.data)
    return delta.multiply(support).tocsr()


def fine_tune(
    weights: Csr, rows: Csr, gold_slots: IdArray, live: Any, params: ContrastParams
) -> Csr | None:
    """A few gradient steps of a softmax regression over the KB rows, started from the scoring
    matrix (features x slots) and pulled back towards it by an L2 term, with the weights kept
    on the matrix's own support (an article's vector stays as sparse as its phrasings).

    The scores keep the centroid scale (the prior is the cosine model), so the decision
    thresholds keep their meaning; what changes is that the weights of words shared with a
    neighbouring article are traded against each other jointly, as a real classifier does.
    Deterministic (fixed steps), so an index equals a fresh build over the same articles.
    Returns None when the KB is too large for it (`tune_cells`) or there is nothing to fit.
    """
    n_rows, n_slots = rows.shape[0], weights.shape[1]
    if (
        params.tune_steps <= 0
        or n_rows == 0
        or n_rows * n_slots > params.tune_cells
        or weights.shape[0] * n_slots > 6 * params.tune_cells
    ):
        return None
    start = weights.tocoo()
    feature, slot, prior = start.row, start.col, start.data.astype(np.float64)
    if not len(prior):
        return None
    x = rows.astype(np.float64).tocsr()
    x_t = x.T.tocsr()
    dead = ~np.asarray(live, dtype=bool)
    target = np.zeros((n_rows, n_slots))
    target[np.arange(n_rows), gold_slots] = 1.0
    scale, l2, shape = params.tune_scale, params.tune_l2, weights.shape

    def gradient(values: FloatArray) -> FloatArray:
        w = sp.csr_matrix((values, (feature, slot)), shape=shape)
        logits = scale * (x @ w).toarray()
        logits[:, dead] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        errors = (x_t @ (probs - target))[feature, slot]
        return np.asarray(errors * scale + l2 * (values - prior), dtype=np.float64)

    # Plain heavy-ball descent, elementwise numpy only: an optimiser that calls BLAS
    # (scipy's L-BFGS-B) leaves its worker threads spinning after it returns, which on a
    # 2-core box slows the next searches by several milliseconds.
    values, velocity = prior.copy(), np.zeros_like(prior)
    for _ in range(params.tune_steps):
        velocity *= params.tune_momentum
        velocity += gradient(values)
        values -= params.tune_rate * velocity
    tuned = sp.csr_matrix((values.astype(np.float32), (feature, slot)), shape=shape)
    tuned.sort_indices()
    return tuned
