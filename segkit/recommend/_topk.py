"""Top-k selection on sparse score rows, without a dense subscribers x items matrix.

A model whose scores are sparse (item-to-item models: a subscriber only gets scores for items
linked to what they bought) hands a CSR matrix of scores to :func:`sparse_top_k`; every stored
entry is an item the model has an opinion on. The rows are grouped by their number of entries
and padded only to the longest row of their group, so the work is proportional to the stored
entries, never to subscribers x catalogue.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["popularity_fill", "sparse_top_k", "top_k_positions"]

#: rows per padded group in :func:`sparse_top_k` (rows are sorted by length first)
_GROUP_ROWS = 2048


def sparse_top_k(matrix: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest stored entries of every row, best first.

    Returns ``(items, scores)``, each ``(n_rows, k)``; a row with fewer than ``k`` entries is
    padded with item ``-1`` and score NaN at the end. Order: score descending, then column
    ascending (ties at the k-th place are cut arbitrarily, as ``numpy.argpartition`` does).
    """
    n_rows = matrix.shape[0]
    items = np.full((n_rows, k), -1, dtype=np.int64)
    scores = np.full((n_rows, k), np.nan, dtype=np.float64)
    indptr = matrix.indptr.astype(np.int64)
    lengths = np.diff(indptr)
    order = np.argsort(lengths, kind="stable")
    first = int(np.searchsorted(lengths[order], 1))  # rows without entries stay padded
    for start in range(first, n_rows, _GROUP_ROWS):
        rows = order[start:start + _GROUP_ROWS]
        group_items, group_scores = _group_top_k(indptr[rows], lengths[rows], matrix.indices, matrix.data, k)
        width = group_items.shape[1]
        items[rows, :width], scores[rows, :width] = group_items, group_scores
    return items, scores


def top_k_positions(keys: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest ``keys`` per row, ordered by key descending then label
    ascending (``labels``: each position's item index; ties at the k-th place are resolved by the
    label too, so the result does not depend on the partition algorithm)."""
    n_rows, width = keys.shape
    rows = np.arange(n_rows)[:, None]
    if k < width:
        part = np.argpartition(-keys, k - 1, axis=1)[:, :k]
        kth = keys[rows, part].min(axis=1)
        tied = np.isfinite(kth) & ((keys >= kth[:, None]).sum(axis=1) > k)
    else:
        part = np.broadcast_to(np.arange(width), (n_rows, width)).copy()
        tied = np.zeros(n_rows, dtype=bool)
    order = np.lexsort((labels[rows, part], -keys[rows, part]), axis=1)
    part = part[rows, order]
    for row in np.flatnonzero(tied):  # rare: equal keys straddle the k-th place
        part[row] = np.lexsort((labels[row], -keys[row]))[: part.shape[1]]
    return part


def _group_top_k(starts: np.ndarray, lengths: np.ndarray, indices: np.ndarray, data: np.ndarray, k: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    width = int(lengths.max())
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    step = np.arange(total)
    target = np.repeat(np.arange(len(lengths)) * width - offsets, lengths) + step
    source = np.repeat(starts - offsets, lengths) + step
    padded = np.full((len(lengths), width), -np.inf, dtype=np.float64)
    padded.ravel()[target] = data[source]
    padded_items = np.full((len(lengths), width), -1, dtype=np.int64)
    padded_items.ravel()[target] = indices[source]
    best = top_k_positions(padded, np.where(padded_items < 0, np.iinfo(np.int64).max, padded_items), k)
    rows = np.arange(len(lengths))[:, None]
    chosen_items, chosen_scores = padded_items[rows, best], padded[rows, best]
    return chosen_items, np.where(chosen_items >= 0, chosen_scores, np.nan)


def popularity_fill(items: np.ndarray, scores: np.ndarray, own: np.ndarray, popular: np.ndarray,
                    popularity: np.ndarray, excluded: sparse.csr_matrix | None) -> None:
    """Fill the empty slots (item ``-1``, at the end of a row) in place with the most popular
    items not already in the row and not ``excluded`` for that row (a CSR matrix of the same
    rows, e.g. the subscriber's bought items), in the order of ``popular`` (allowed items, most
    popular first); filled slots get ``popularity`` as score and ``own`` False."""
    k = items.shape[1]
    filled = (items >= 0).sum(axis=1)
    need = np.flatnonzero(filled < k)
    if len(need) == 0 or len(popular) == 0:
        return
    rank_of = np.full(len(popularity), np.iinfo(np.int64).max, dtype=np.int64)
    rank_of[popular] = np.arange(len(popular))
    extra = np.zeros(len(items), dtype=np.int64) if excluded is None else np.diff(excluded.indptr)
    order = need[np.argsort(extra[need], kind="stable")]
    for start in range(0, len(order), _GROUP_ROWS):
        rows = order[start:start + _GROUP_ROWS]
        width = min(len(popular), k + int(extra[rows].max()))
        blocked = np.zeros((len(rows), width), dtype=bool)
        taken = items[rows]
        ranks = rank_of[np.maximum(taken, 0)]
        hit = (taken >= 0) & (ranks < width)
        blocked[np.nonzero(hit)[0], ranks[hit]] = True
        if excluded is not None:
            sub = excluded[rows]
            sub_rows = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
            sub_ranks = rank_of[sub.indices]
            inside = sub_ranks < width
            blocked[sub_rows[inside], sub_ranks[inside]] = True
        free = ~blocked
        position = np.cumsum(free, axis=1)
        missing = (k - filled[rows])[:, None]
        take = free & (position <= missing)
        take_row, take_col = np.nonzero(take)
        slot = filled[rows][take_row] + position[take_row, take_col] - 1
        target = rows[take_row]
        chosen = popular[take_col]
        items[target, slot] = chosen
        scores[target, slot] = popularity[chosen]
        own[target, slot] = False
