"""The recommenders: three baselines, item-to-item co-occurrence and EASE."""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from segkit.errors import ValidationError
from segkit.recommend._base import Recommender, _recent_binary
from segkit.recommend._data import InteractionMatrix

__all__ = ["BuyAgain", "CategoryPopularity", "Cooccurrence", "EASE", "Popularity"]


def _check_positive(owner: object, key: str, *, integer: bool = False, allow_zero: bool = False) -> None:
    value = getattr(owner, key)
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = "a non-negative" if allow_zero else "a positive"
        raise ValidationError(f"{type(owner).__name__}({key}={value!r}) is invalid: need {need} "
                              f"{'integer' if integer else 'number'}")


class _Windowed(Recommender):
    """A recommender counting buyers over the last ``window_days`` days."""

    _own_params: ClassVar[tuple[str, ...]] = ("window_days",)

    def __init__(self, *, window_days: float = 90.0, **shared: object) -> None:
        super().__init__(**shared)  # type: ignore[arg-type]
        self.window_days = window_days


class Popularity(_Windowed):
    """Global popularity: the items bought by the most distinct subscribers in the last
    ``window_days`` days up to ``as_of`` (the same list for everyone)."""

    name = "popularity"

    def _fit(self, data: InteractionMatrix) -> None:
        _check_positive(self, "window_days")
        recent = _recent_binary(data, self.window_days)
        ever = np.asarray(data.binary.sum(axis=0)).ravel()
        self.item_scores_ = np.asarray(recent.sum(axis=0)).ravel() + ever / (ever.max() + 1.0)

    def _scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = np.broadcast_to(self.item_scores_, (len(rows), len(self.item_scores_)))
        return scores, np.broadcast_to(self.item_scores_ > 0, scores.shape)


class BuyAgain(Recommender):
    """"Buy again": the subscriber's own items, most often (time-decayed count) first, ties by
    recency. Subscribers without history, and slots beyond their own items, get popularity."""

    name = "buy_again"

    def _fit(self, data: InteractionMatrix) -> None:
        if self.exclude_bought:
            raise ValidationError("BuyAgain(exclude_bought=True) would recommend nothing: it only "
                                  "recommends bought items")

    def _scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = self.data_.counts[rows].toarray().astype(np.float64)
        age = self.data_.age_days[rows].toarray().astype(np.float64)
        scores = counts + np.where(counts > 0, 1.0 / (1.0 + age), 0.0) * 1e-3  # recency breaks ties
        return scores, counts > 0


class CategoryPopularity(_Windowed):
    """Popularity within the subscriber's top category (most interactions, ties by name).

    Needs a ``category`` column; items of other categories are never proposed by this model
    (the popularity fallback fills the rest of the list)."""

    name = "category_popularity"

    def _fit(self, data: InteractionMatrix) -> None:
        _check_positive(self, "window_days")
        if data.category is None:
            raise ValidationError("CategoryPopularity needs a category column in the interactions; these "
                                  "data have none (use Popularity)")
        codes, self.categories_ = pd.factorize(pd.Series(data.category).fillna("(none)"), sort=True)
        self.item_category_ = codes
        to_category = sparse.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)),
                                        shape=(len(codes), len(self.categories_)))
        per_category = np.asarray((data.counts @ to_category).todense())
        self.top_category_ = np.argmax(per_category, axis=1)  # first (alphabetical) on ties
        recent = _recent_binary(data, self.window_days)
        self.item_scores_ = np.asarray(recent.sum(axis=0)).ravel().astype(np.float64)

    def _scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        same = self.item_category_[None, :] == self.top_category_[rows][:, None]
        scores = np.where(same, self.item_scores_[None, :], 0.0)
        return scores, same & (self.item_scores_[None, :] > 0)


class Cooccurrence(Recommender):
    """Item-to-item "bought together": score(u, j) = sum over the subscriber's items i of
    ``history[u, i] * s(i, j)``.

    With ``c_ij`` the subscribers who bought both, ``n_i`` those who bought i and ``N`` all
    subscribers, ``similarity="cosine"`` is ``c_ij / sqrt(n_i n_j)`` and ``"lift"`` is
    ``c_ij N / (n_i n_j)``; both are multiplied by ``c_ij / (c_ij + shrinkage)`` so that a pair
    seen once or twice counts little (Koren 2008, eq. 2). Only each item's ``neighbours`` most
    similar items are kept (sparse, fast to apply).
    """

    name = "cooccurrence"
    _own_params: ClassVar[tuple[str, ...]] = ("similarity", "shrinkage", "neighbours")
    SIMILARITIES: ClassVar[tuple[str, ...]] = ("cosine", "lift")

    def __init__(self, *, similarity: str = "cosine", shrinkage: float = 10.0, neighbours: int = 100,
                 **shared: object) -> None:
        super().__init__(**shared)  # type: ignore[arg-type]
        self.similarity = similarity
        self.shrinkage = shrinkage
        self.neighbours = neighbours

    def _fit(self, data: InteractionMatrix) -> None:
        if self.similarity not in self.SIMILARITIES:
            raise ValidationError(f"Cooccurrence(similarity={self.similarity!r}) is invalid; valid: "
                                  f"{', '.join(self.SIMILARITIES)}")
        _check_positive(self, "shrinkage", allow_zero=True)
        _check_positive(self, "neighbours", integer=True)
        self.similarity_ = item_similarity(data.binary, similarity=self.similarity, shrinkage=self.shrinkage,
                                           neighbours=int(self.neighbours))

    def _scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = (self.data_.history[rows] @ self.similarity_).toarray().astype(np.float64)
        return scores, scores > 0

    def _scores_are_sparse(self) -> bool:
        return True

    def _sparse_scores(self, rows: np.ndarray) -> sparse.csr_matrix:
        return _positive(self.data_.history[rows] @ self.similarity_)


def _positive(scores: sparse.spmatrix) -> sparse.csr_matrix:
    """The strictly positive entries of a product, in float64 (the items scored above zero)."""
    scores = sparse.csr_matrix(scores)
    scores.data = scores.data.astype(np.float64)
    scores.data[scores.data <= 0] = 0.0
    scores.eliminate_zeros()
    return scores


def item_similarity(binary: sparse.csr_matrix, *, similarity: str, shrinkage: float, neighbours: int
                    ) -> sparse.csr_matrix:
    """Item x item similarity (zero diagonal), each row pruned to its ``neighbours`` largest."""
    counts = (binary.T @ binary).tocsr().astype(np.float64)
    counts.setdiag(0)
    counts.eliminate_zeros()
    buyers = np.asarray(binary.sum(axis=0)).ravel().astype(np.float64)
    coo = counts.tocoo()
    both = coo.data
    if similarity == "cosine":
        base = both / np.sqrt(buyers[coo.row] * buyers[coo.col])
    else:
        base = both * binary.shape[0] / (buyers[coo.row] * buyers[coo.col])
    values = base * both / (both + shrinkage)
    sim = sparse.csr_matrix((values, (coo.row, coo.col)), shape=counts.shape)
    return _prune_rows(sim, neighbours).astype(np.float32)


def _prune_rows(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Keep the ``keep`` largest entries of every row (ties: lower column first)."""
    matrix.sort_indices()
    lengths = np.diff(matrix.indptr)
    if lengths.max(initial=0) <= keep:
        return matrix
    row_of = np.repeat(np.arange(matrix.shape[0]), lengths)
    order = np.lexsort((matrix.indices, -matrix.data, row_of))
    rank = np.arange(len(order)) - np.repeat(matrix.indptr[:-1], lengths)
    kept = order[rank < keep]
    return sparse.csr_matrix((matrix.data[kept], (row_of[kept], matrix.indices[kept])), shape=matrix.shape)


class EASE(Recommender):
    """EASE (Steck 2019, "Embarrassingly shallow autoencoders for sparse data", eq. 8):
    ``P = (X'X + l2 I)^-1``, ``B = I - P diag(1 / diag P)`` (zero diagonal), scores ``X B``.

    ``X`` is the binary subscriber x item matrix restricted to the ``max_items`` items bought by
    the most subscribers (the inverse is dense: memory grows with its square, time with its
    cube); the scores use the time-decayed history. Items outside those ``max_items`` come from
    the popularity fallback.

    ``neighbours=None`` scores with the full ``B``: every one of the ``max_items`` items gets a
    score for every subscriber with history (a dense subscribers x items product, fine for
    thousands of subscribers). ``neighbours=n`` (default 100) keeps, for every item ``i``, only its ``n``
    weights ``B[i, j]`` largest in absolute value (the items ``i`` most suggests or most argues
    against) in a sparse matrix: a subscriber then gets scores for the items linked to what they
    bought, summed over those links only, and ranking touches only those scores (what makes a
    million subscribers fast: ``benchmarks/recommend.py``). With ``n`` at least ``max_items``
    nothing is pruned and the lists equal the unpruned model's. On Online Retail (train to
    2011-09-30, test to 2011-12-09) recall@10 was 0.218 unpruned, 0.216 with 100 neighbours and
    0.213 with 50.
    """

    name = "ease"
    _own_params: ClassVar[tuple[str, ...]] = ("l2", "max_items", "neighbours")

    def __init__(self, *, l2: float = 200.0, max_items: int = 5000, neighbours: int | None = 100,
                 **shared: object) -> None:
        super().__init__(**shared)  # type: ignore[arg-type]
        self.l2 = l2
        self.max_items = max_items
        self.neighbours = neighbours

    def _fit(self, data: InteractionMatrix) -> None:
        _check_positive(self, "l2")
        _check_positive(self, "max_items", integer=True)
        if self.neighbours is not None:
            _check_positive(self, "neighbours", integer=True)
        buyers = np.asarray(data.binary.sum(axis=0)).ravel()
        order = np.lexsort((np.arange(len(buyers)), -buyers))
        self.item_index_ = np.sort(order[: int(self.max_items)])
        self.weights_ = ease_weights(data.binary[:, self.item_index_], self.l2)
        if self.neighbours is not None:
            self.sparse_weights_ = _sparse_neighbours(self.weights_, self.item_index_, int(self.neighbours),
                                                      len(data.items))

    def _scores(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_items = len(self.data_.items)
        scores = np.zeros((len(rows), n_items), dtype=np.float64)
        part = self.data_.history[rows][:, self.item_index_]
        scores[:, self.item_index_] = part @ self.weights_
        opinion = np.zeros(scores.shape, dtype=bool)
        warm = np.diff(self.data_.history[rows].indptr) > 0
        opinion[np.ix_(warm, self.item_index_)] = True
        return scores, opinion

    def _scores_are_sparse(self) -> bool:
        return self.neighbours is not None

    def _sparse_scores(self, rows: np.ndarray) -> sparse.csr_matrix:
        scores = sparse.csr_matrix(self.data_.history[rows] @ self.sparse_weights_)
        scores.eliminate_zeros()
        return scores


def _sparse_neighbours(weights: np.ndarray, index: np.ndarray, keep: int, n_items: int) -> sparse.csr_matrix:
    """The ``keep`` weights largest in absolute value of every row of ``weights`` (items ``index``
    of ``n_items``), as a sparse ``n_items x n_items`` matrix in the catalogue's item order."""
    size = len(index)
    if keep < size:
        columns = np.argpartition(-np.abs(weights), keep - 1, axis=1)[:, :keep]
    else:
        columns = np.tile(np.arange(size), (size, 1))
    rows = np.repeat(np.arange(size), columns.shape[1])
    values = weights[rows, columns.ravel()]
    pruned = sparse.csr_matrix((values, (index[rows], index[columns.ravel()])), shape=(n_items, n_items))
    pruned.eliminate_zeros()
    return pruned


def ease_weights(binary: sparse.spmatrix, l2: float) -> np.ndarray:
    """The EASE item-item weights ``B`` (zero diagonal) for a binary matrix, in float64."""
    matrix = sparse.csr_matrix(binary, dtype=np.float64)
    gram = (matrix.T @ matrix).toarray()
    gram[np.diag_indices_from(gram)] += l2
    precision = np.linalg.inv(gram)
    weights = -precision / np.diag(precision)[None, :]
    weights[np.diag_indices_from(weights)] = 0.0
    return weights

