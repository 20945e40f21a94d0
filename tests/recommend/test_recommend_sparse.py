"""Ranking without dense subscribers x items matrices (issue 22's speed target): the sparse path
gives the same lists as the dense one, pruned EASE keeps the strongest weights, and the id
factorisation equals the plain string one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.recommend import EASE, Cooccurrence
from segkit.recommend._data import factorize_str
from segkit.recommend._models import ease_weights
from segkit.recommend._topk import sparse_top_k, top_k_positions

from .test_recommend_models import AS_OF, _interactions

OPTIONS = [{}, {"exclude_bought": True}, {"recent_days": 30}, {"exclude_bought": True, "recent_days": 15},
           {"half_life_days": 20}]


def _dense(model):
    """The same fitted model, ranked through the dense path."""
    model._scores_are_sparse = lambda: False
    return model


def _subscribers(data: pd.DataFrame) -> list[str]:
    return [*pd.unique(data["subscriber_id"])[:150], "cold-1", "cold-2"]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("neighbours, similarity", [(100, "cosine"), (3, "lift")])
def test_sparse_cooccurrence_ranking_equals_dense(options, neighbours, similarity):
    data = _interactions(n_subscribers=250, n_items=60, n_rows=2500)
    model = Cooccurrence(neighbours=neighbours, similarity=similarity, **options).fit(data, AS_OF)
    assert model._scores_are_sparse()
    subscribers = _subscribers(data)
    sparse_lists = model.recommend(subscribers, k=12)
    dense_lists = _dense(model).recommend(subscribers, k=12)
    pd.testing.assert_frame_equal(sparse_lists, dense_lists)
    assert (sparse_lists["model"] == "popularity").any() and (sparse_lists["model"] == "cooccurrence").any()


@pytest.mark.parametrize("options", OPTIONS)
def test_ease_without_pruning_equals_the_full_model(options):
    data = _interactions(n_subscribers=250, n_items=60, n_rows=2500)
    subscribers = _subscribers(data)
    full = EASE(l2=5, max_items=40, neighbours=None, **options).fit(data, AS_OF)
    unpruned = EASE(l2=5, max_items=40, neighbours=40, **options).fit(data, AS_OF)
    assert not full._scores_are_sparse() and unpruned._scores_are_sparse()
    pd.testing.assert_frame_equal(full.recommend(subscribers, k=12), unpruned.recommend(subscribers, k=12),
                                  check_exact=False, rtol=1e-9)


def test_pruned_ease_keeps_each_items_largest_absolute_weights():
    data = _interactions(n_subscribers=250, n_items=60, n_rows=2500)
    model = EASE(l2=5, max_items=40, neighbours=6).fit(data, AS_OF)
    weights = ease_weights(model.data_.binary[:, model.item_index_].toarray(), 5)
    pruned = model.sparse_weights_.toarray()[np.ix_(model.item_index_, model.item_index_)]
    assert set(np.flatnonzero(model.sparse_weights_.getnnz(axis=1))) <= set(model.item_index_)
    for row in range(len(model.item_index_)):
        kept = np.flatnonzero(pruned[row])
        assert len(kept) == 6
        threshold = np.sort(np.abs(weights[row]))[-6]
        assert set(kept) == set(np.flatnonzero(np.abs(weights[row]) >= threshold))
        np.testing.assert_allclose(pruned[row, kept], weights[row, kept], rtol=1e-12)
    # scores: the subscriber's history times the pruned weights (an independent numpy product)
    row = model.data_.subscribers.get_loc("s010")
    history = model.data_.history[row].toarray().ravel()[model.item_index_]
    expected = history @ pruned
    recs = model.recommend(["s010"], k=3)
    top = np.argsort(-np.where(expected != 0, expected, -np.inf), kind="stable")[:3]
    assert recs["product_id"].tolist() == model.data_.items[model.item_index_[top]].tolist()
    np.testing.assert_allclose(recs["score"], expected[top], rtol=1e-9)


def test_top_k_breaks_ties_by_item_wherever_they_fall():
    keys = np.array([[1.0, 3.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0, 2.0], [-np.inf, 1.0, -np.inf, 0.0, 4.0]])
    labels = np.broadcast_to(np.arange(5), keys.shape)
    got = top_k_positions(keys, labels, 2)
    assert got.tolist() == [[1, 2], [0, 1], [4, 1]]
    from scipy import sparse

    matrix = sparse.csr_matrix(np.where(np.isfinite(keys), keys, 0.0))
    items, scores = sparse_top_k(matrix, 4)
    assert items.tolist() == [[1, 2, 3, 0], [0, 1, 2, 3], [4, 1, -1, -1]]
    assert np.isnan(scores[2, 2:]).all()


def test_factorize_str_equals_factorizing_strings():
    values = pd.Series([3, "3", 10, None, "a", 2.0, 10, np.nan, "b"], dtype=object)
    codes, labels = factorize_str(values)
    expected_codes, expected_labels = pd.factorize(values.astype(str), sort=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert labels.tolist() == expected_labels.tolist()
    ints = pd.Series(np.random.default_rng(0).integers(0, 50, 400))
    codes, labels = factorize_str(ints)
    expected_codes, expected_labels = pd.factorize(ints.astype(str), sort=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert labels.tolist() == expected_labels.tolist()
