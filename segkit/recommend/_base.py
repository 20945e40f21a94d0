"""What every recommender shares: parameters, fitting on the past, top-N with a popularity fallback."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from segkit.errors import NotFittedError, ValidationError
from segkit.recommend._data import InteractionMatrix, prepare

__all__ = ["FALLBACK_MODEL", "Recommender"]

#: ``model`` value of a slot filled by global popularity (cold-start subscriber, or a model with
#: fewer than ``k`` candidates for this subscriber).
FALLBACK_MODEL = "popularity"

#: dense score cells per batch (users x items) when ranking: bounds memory to a few hundred MB.
_BATCH_CELLS = 20_000_000


def _positive_or_none(value: object) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0)


class Recommender:
    """Base class: ``fit(interactions, as_of)`` then ``recommend(k=...)``.

    Parameters (shared by every model, keyword-only)
    ----------
    exclude_bought
        Never recommend an item the subscriber already interacted with (False: gift shops rebuy).
    recent_days
        Only recommend items with an interaction in the ``recent_days`` days up to ``as_of``
        (drops discontinued items); None keeps every item seen.
    max_per_category
        At most this many items of one category in a subscriber's list (diversity); needs a
        ``category`` column. None: no limit.
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
        out_items = np.empty((len(positions), k), dtype=np.int64)
        out_scores = np.empty((len(positions), k), dtype=np.float64)
        out_own = np.empty((len(positions), k), dtype=bool)
        batch = max(1, _BATCH_CELLS // max(n_items, 1))
        for start in range(0, len(positions), batch):
            chunk = positions[start:start + batch]
            sl = slice(start, start + len(chunk))
            out_items[sl], out_scores[sl], out_own[sl] = self._rank_batch(chunk, k)
        return out_items, out_scores, out_own

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
            bought = np.zeros_like(blocked)
            bought[known] = self.data_.history[positions[known]].toarray() > 0
            blocked |= bought
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
        frame = frame.loc[present].reset_index(drop=True)
        frame["rank"] = frame.groupby("subscriber_id", sort=False).cumcount() + 1
        return frame


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
    if k < key.shape[1]:
        part = np.argpartition(-key, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(key.shape[1]), (len(key), 1))
    rows = np.arange(len(key))[:, None]
    order = np.argsort(-key[rows, part], axis=1, kind="stable")
    return part[rows, order]
