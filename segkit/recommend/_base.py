"""What every recommender shares: parameters, fitting on the past, top-N with a popularity fallback."""

from __future__ import annotations

import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from segkit.errors import NotFittedError, ValidationError
from segkit.recommend._data import InteractionMatrix, prepare
from segkit.recommend._topk import popularity_fill, sparse_top_k, top_k_positions

__all__ = ["FALLBACK_MODEL", "Recommender"]

#: ``model`` value of a slot filled by global popularity (cold-start subscriber, or a model with
#: fewer than ``k`` candidates for this subscriber).
FALLBACK_MODEL = "popularity"

#: dense score cells per batch (users x items) when ranking: bounds memory to a few hundred MB.
_BATCH_CELLS = 20_000_000
#: subscribers per batch when a model's scores are sparse (see ``Recommender._sparse_scores``)
_SPARSE_BATCH_ROWS = 50_000
#: at most this many threads rank batches of a sparse model at once
_MAX_THREADS = 2


def _positive_or_none(value: object) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0)


class Recommender:
    """Base class: ``fit(interactions, as_of)`` then ``recommend(k=...)``.

    Item-to-item models (:class:`Cooccurrence`, :class:`EASE` with ``neighbours``) score
    sparsely: a subscriber's candidates are the items linked to what they bought, ranked in
    batches of subscribers on two threads without a dense subscribers x items matrix (1M
    subscribers x 20k items in ``benchmarks/recommend.py``); the others score densely in batches.

    Parameters (shared by every model, keyword-only)
    ----------
    exclude_bought
        Never recommend an item the subscriber already interacted with (False: gift shops rebuy).
    recent_days
        Only recommend items with an interaction in the ``recent_days`` days up to ``as_of``
        (drops discontinued items); None keeps every item seen.
    max_per_category
        At most this many items of one category in a subscriber's list (diversity); needs a
        ``category`` column. None: no limit. With a limit every model ranks through dense
        subscribers x items batches (fine for thousands of subscribers, slow for millions).
    half_life_days
        Time decay of interaction weights (an interaction ``half_life_days`` old counts half);
        None: no decay.
    popularity_days
        Window of the popularity fallback (subscribers without history, unfilled slots).
    """

    name: ClassVar[str] = "recommender"
    _own_params: ClassVar[tuple[str, ...]] = ()
    _shared_params: ClassVar[tuple[str, ...]] = (
        "exclude_bought", "recent_days", "max_per_category", "half_life_days", "popularity_days",
    )

    def __init__(self, *, exclude_bought: bool = False, recent_days: float | None = None,
                 max_per_category: int | None = None, half_life_days: float | None = None,
                 popularity_days: float = 90.0) -> None:
        self.exclude_bought = exclude_bought
        self.recent_days = recent_days
        self.max_per_category = max_per_category
        self.half_life_days = half_life_days
        self.popularity_days = popularity_days

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._own_params + self._shared_params}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _validate_params(self) -> None:
        if not isinstance(self.exclude_bought, bool):
            raise ValidationError(f"{type(self).__name__}(exclude_bought={self.exclude_bought!r}) "
                                  "is invalid: need True or False")
        for key in ("recent_days", "max_per_category", "half_life_days", "popularity_days"):
            if not _positive_or_none(getattr(self, key)):
                raise ValidationError(f"{type(self).__name__}({key}={getattr(self, key)!r}) is invalid: "
                                      "need a positive number or None")

    # ------------------------------------------------------------------ fitting
    def fit(self, interactions: pd.DataFrame, as_of: object) -> Recommender:
        """Learn from the interactions with ``ts <= as_of`` (later rows are ignored)."""
        self._validate_params()
        data = prepare(interactions, as_of, half_life_days=self.half_life_days)
        if self.max_per_category is not None and data.category is None:
            raise ValidationError(f"{type(self).__name__}(max_per_category=...) needs a category column "
                                  "in the interactions; these data have none")
        self.data_ = data
        self.popularity_ = recent_popularity(data, self.popularity_days)
        self.allowed_ = self._allowed(data)
        self._fit(data)
        return self

    def _fit(self, data: InteractionMatrix) -> None:
        """Model-specific learning (the data are already limited to ``ts <= as_of``)."""

    def _allowed(self, data: InteractionMatrix) -> np.ndarray:
        if self.recent_days is None:
            return np.ones(len(data.items), dtype=bool)
        since = data.as_of - pd.Timedelta(days=self.recent_days)
        return pd.DatetimeIndex(data.last_ts).tz_localize(None) > since.tz_localize(None)

    def _check_fitted(self) -> None:
        if not hasattr(self, "data_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 "'fit(interactions, as_of)' first.")

    # ------------------------------------------------------------------ scoring
    def _scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(scores, has_opinion) for the subscribers at ``rows``: dense (len(rows), n_items)."""
        raise NotImplementedError

    def _scores_are_sparse(self) -> bool:
        """True when the fitted model scores through :meth:`_sparse_scores`."""
        return False

    def _sparse_scores(self, rows: np.ndarray) -> sparse.csr_matrix:
        """Scores of the subscribers at ``rows`` as a CSR matrix whose stored entries are the items
        the model has an opinion on (models with :meth:`_scores_are_sparse`). Ranking such a
        model never builds a dense subscribers x items matrix."""
        raise NotImplementedError

    def recommend(self, subscribers: Any = None, *, k: int = 10) -> pd.DataFrame:
        """Top ``k`` items per subscriber.

        ``subscribers`` defaults to everyone seen in training; unknown ids (cold start) get
        global popularity. One row per subscriber and rank: ``subscriber_id``, ``rank`` (1 = best),
        ``product_id``, ``name`` (when the data have names), ``score`` and ``model`` (this
        model's name, or ``"popularity"`` where the fallback filled the slot).
        """
        self._check_fitted()
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ValidationError(f"k={k!r} is invalid: need a positive integer")
        ids = (self.data_.subscribers if subscribers is None
               else pd.Index(pd.unique(pd.Index(subscribers).astype(str))))
        positions = self.data_.subscribers.get_indexer(ids)
        items, scores, own = self._rank(positions, int(k))
        return self._frame(ids, items, scores, own)

    def _rank(self, positions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Item codes, scores and 'this model produced it' flags, each (len(positions), k)."""
        n_items = len(self.data_.items)
        k = min(k, n_items)
        if self.max_per_category is None and self._scores_are_sparse():
            return self._rank_sparse(positions, k)
        out_items = np.empty((len(positions), k), dtype=np.int64)
        out_scores = np.empty((len(positions), k), dtype=np.float64)
        out_own = np.empty((len(positions), k), dtype=bool)
        batch = max(1, _BATCH_CELLS // max(n_items, 1))
        for start in range(0, len(positions), batch):
            chunk = positions[start:start + batch]
            sl = slice(start, start + len(chunk))
            out_items[sl], out_scores[sl], out_own[sl] = self._rank_batch(chunk, k)
        return out_items, out_scores, out_own

    def _rank_sparse(self, positions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_rank` for a model with sparse scores: the same lists as the dense ranking (model
        items by score, then the popularity fallback), in memory proportional to stored scores."""
        n_items = len(self.data_.items)
        popularity = self.popularity_
        allowed = self.allowed_ & (popularity > 0)
        popular = np.lexsort((np.arange(n_items), -popularity))
        popular = popular[allowed[popular]]
        out_items = np.empty((len(positions), k), dtype=np.int64)
        out_scores = np.empty((len(positions), k), dtype=np.float64)
        out_own = np.empty((len(positions), k), dtype=bool)

        def rank_chunk(start: int) -> None:
            chunk = positions[start:start + _SPARSE_BATCH_ROWS]
            sl = slice(start, start + len(chunk))
            scores = self._sparse_chunk(chunk)
            bought = _rows_of(self.data_.history, chunk) if self.exclude_bought else None
            scores = _drop_entries(scores, ~self.allowed_, bought)
            items, values = sparse_top_k(scores, k)
            own = items >= 0
            popularity_fill(items, values, own, popular, popularity, bought)
            valid = items >= 0
            out_items[sl], out_scores[sl], out_own[sl] = items, np.where(valid, values, np.nan), own & valid

        starts = range(0, len(positions), _SPARSE_BATCH_ROWS)
        workers = min(len(starts), _threads())
        if workers <= 1:
            for start in starts:
                rank_chunk(start)
        else:  # scipy's sparse products and numpy's partitions release the GIL
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(rank_chunk, starts))
        return out_items, out_scores, out_own

    def _sparse_chunk(self, positions: np.ndarray) -> sparse.csr_matrix:
        """The model's sparse scores for ``positions``, with empty rows for unknown ones (-1)."""
        known = positions >= 0
        if not known.any():
            return sparse.csr_matrix((len(positions), len(self.data_.items)), dtype=np.float64)
        return _with_empty_rows(self._sparse_scores(positions[known]).tocsr(), known)

    def _rank_batch(self, positions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        known = positions >= 0
        n_items = len(self.data_.items)
        scores = np.zeros((len(positions), n_items), dtype=np.float64)
        opinion = np.zeros((len(positions), n_items), dtype=bool)
        if known.any():
            model_scores, model_opinion = self._scores(positions[known])
            scores[known], opinion[known] = model_scores, model_opinion
        popularity = self.popularity_
        key = _fallback_key(scores, opinion, popularity)
        blocked = ~self.allowed_[None, :] | (popularity[None, :] <= 0) & ~opinion
        if self.exclude_bought and known.any():
            blocked |= _rows_of(self.data_.history, positions).toarray() > 0
        key[blocked] = -np.inf
        top = _top_k(key, k) if self.max_per_category is None else self._top_k_diverse(key, k)
        rows = np.arange(len(positions))[:, None]
        safe = np.maximum(top, 0)
        valid = (top >= 0) & np.isfinite(key[rows, safe])
        own = opinion[rows, safe] & valid
        chosen_scores = np.where(own, scores[rows, safe], popularity[safe])
        return np.where(valid, top, -1), np.where(valid, chosen_scores, np.nan), own

    def _top_k_diverse(self, key: np.ndarray, k: int) -> np.ndarray:
        """Greedy top-k with at most ``max_per_category`` items of one category per row."""
        codes, _ = pd.factorize(pd.Series(self.data_.category).fillna("(none)"))
        order = np.argsort(-key, axis=1, kind="stable")
        out = np.full((len(key), k), -1, dtype=np.int64)
        for row in range(len(key)):
            taken: dict[int, int] = {}
            slot = 0
            for item in order[row]:
                if slot == k or not np.isfinite(key[row, item]):
                    break
                if taken.get(codes[item], 0) < self.max_per_category:
                    taken[codes[item]] = taken.get(codes[item], 0) + 1
                    out[row, slot] = item
                    slot += 1
        return out

    def _frame(self, ids: pd.Index, items: np.ndarray, scores: np.ndarray, own: np.ndarray) -> pd.DataFrame:
        k = items.shape[1]
        flat = items.ravel()
        present = flat >= 0
        frame = pd.DataFrame({
            "subscriber_id": np.repeat(ids.to_numpy(dtype=object), k),
            "rank": np.tile(np.arange(1, k + 1), len(ids)),
            "product_id": self.data_.items.to_numpy(dtype=object)[np.where(present, flat, 0)],
        })
        if self.data_.names is not None:
            frame["name"] = self.data_.names[np.where(present, flat, 0)]
        frame["score"] = scores.ravel()
        frame["model"] = np.where(own.ravel(), self.name, FALLBACK_MODEL)
        # every ranking fills a row's slots from the left, so the kept ranks stay 1, 2, ...
        return frame.loc[present].reset_index(drop=True)


def _threads() -> int:
    """Threads for ranking: the CPUs this process may use, at most :data:`_MAX_THREADS`."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, _MAX_THREADS))


def _rows_of(matrix: sparse.csr_matrix, positions: np.ndarray) -> sparse.csr_matrix:
    """Rows of ``matrix`` at ``positions``; empty rows where a position is -1 (unknown)."""
    known = positions >= 0
    return _with_empty_rows(matrix[positions[known]], known)


def _with_empty_rows(part: sparse.csr_matrix, known: np.ndarray) -> sparse.csr_matrix:
    """``part`` (one row per True in ``known``) laid out on ``len(known)`` rows, empty elsewhere."""
    lengths = np.zeros(len(known), dtype=np.int64)
    lengths[known] = np.diff(part.indptr)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return sparse.csr_matrix((part.data, part.indices, indptr), shape=(len(known), part.shape[1]))


def _drop_entries(scores: sparse.csr_matrix, blocked_items: np.ndarray, blocked_cells: sparse.csr_matrix | None
                  ) -> sparse.csr_matrix:
    """``scores`` without the entries in ``blocked_items`` columns or at ``blocked_cells``."""
    check_cells = blocked_cells is not None and blocked_cells.nnz > 0
    if not blocked_items.any() and not check_cells:
        return scores
    drop = blocked_items[scores.indices]
    rows = np.repeat(np.arange(scores.shape[0], dtype=np.int64), np.diff(scores.indptr))
    if check_cells:
        cells = np.repeat(np.arange(blocked_cells.shape[0], dtype=np.int64), np.diff(blocked_cells.indptr))
        keys = rows * scores.shape[1] + scores.indices
        blocked_keys = np.sort(cells * scores.shape[1] + blocked_cells.indices)
        at = np.minimum(np.searchsorted(blocked_keys, keys), len(blocked_keys) - 1)
        drop |= blocked_keys[at] == keys
    if not drop.any():
        return scores
    keep = ~drop
    return sparse.csr_matrix((scores.data[keep], (rows[keep], scores.indices[keep])), shape=scores.shape)


def recent_popularity(data: InteractionMatrix, days: float) -> np.ndarray:
    """Distinct subscribers per item with an interaction in the ``days`` days up to ``as_of``
    (ties broken by all-time distinct subscribers, scaled below one)."""
    recent = _recent_binary(data, days)
    counts = np.asarray(recent.sum(axis=0)).ravel().astype(np.float64)
    ever = np.asarray(data.binary.sum(axis=0)).ravel().astype(np.float64)
    return counts + ever / (ever.max() + 1.0)


def _recent_binary(data: InteractionMatrix, days: float) -> sparse.csr_matrix:
    recent = data.age_days.copy()
    recent.data = (recent.data <= days + 1.0).astype(np.float32)
    recent.eliminate_zeros()
    return recent


def _fallback_key(scores: np.ndarray, opinion: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """A ranking key where every item the model has an opinion on beats every fallback item:
    model items keep their score order, the rest follow in popularity order."""
    shifted = np.where(opinion, scores, np.inf)
    row_min = shifted.min(axis=1, keepdims=True)
    row_min = np.where(np.isfinite(row_min), row_min, 0.0)
    pop_key = popularity / (popularity.max() + 1.0) - 2.0  # in [-2, -1)
    return np.where(opinion, scores - row_min, pop_key[None, :])


def _top_k(key: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest keys per row, best first (ties: lower index first)."""
    return top_k_positions(key, np.broadcast_to(np.arange(key.shape[1]), key.shape), k)
