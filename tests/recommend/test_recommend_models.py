"""Recommenders against independent pandas / numpy computations, and leak-freedom."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import InputError, NotFittedError, ValidationError
from segkit.recommend import EASE, BuyAgain, CategoryPopularity, Cooccurrence, Popularity
from segkit.recommend._models import ease_weights

AS_OF = pd.Timestamp("2024-03-31T23:59:59Z")


def _interactions(n_subscribers: int = 60, n_items: int = 25, n_rows: int = 900, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    popularity = rng.dirichlet(np.full(n_items, 0.6))
    items = rng.choice(n_items, size=n_rows, p=popularity)
    frame = pd.DataFrame({
        "subscriber_id": [f"s{u:03d}" for u in rng.integers(0, n_subscribers, n_rows)],
        "product_id": [f"p{i:02d}" for i in items],
        "ts": AS_OF - pd.to_timedelta(rng.uniform(0, 200, n_rows), unit="D"),
        "category": np.where(items % 3 == 0, "kitchen", np.where(items % 3 == 1, "garden", "toys")),
        "name": [f"Product {i}" for i in items],
    })
    return frame


MODELS = [
    lambda: Popularity(window_days=60),
    lambda: BuyAgain(half_life_days=30),
    lambda: CategoryPopularity(),
    lambda: Cooccurrence(similarity="lift", shrinkage=2, neighbours=5),
    lambda: Cooccurrence(exclude_bought=True, recent_days=30),
    lambda: EASE(l2=5, max_items=10, max_per_category=2),
    lambda: EASE(l2=5, max_items=20, neighbours=4, exclude_bought=True, recent_days=40),
]


@pytest.mark.parametrize("make", MODELS)
def test_future_interactions_change_nothing(make):
    past = _interactions()
    rng = np.random.default_rng(7)
    future = past.sample(400, replace=True, random_state=3).assign(
        ts=AS_OF + pd.to_timedelta(rng.uniform(0.001, 50, 400), unit="D"),
        product_id=lambda f: f["product_id"].where(rng.random(400) < 0.5, "p_new"),
        subscriber_id=lambda f: f["subscriber_id"].where(rng.random(400) < 0.7, "s_future"),
    )
    before = make().fit(past, AS_OF).recommend(k=5)
    after = make().fit(pd.concat([past, future], ignore_index=True), AS_OF).recommend(k=5)
    pd.testing.assert_frame_equal(before, after)


def test_popularity_equals_pandas_count_of_recent_buyers():
    data = _interactions()
    recent = data[data["ts"] > AS_OF - pd.Timedelta(days=60)]
    counts = recent.groupby("product_id")["subscriber_id"].nunique()
    ever = data.groupby("product_id")["subscriber_id"].nunique()
    expected = (counts.reindex(ever.index, fill_value=0) + ever / (ever.max() + 1)).sort_values(
        ascending=False, kind="stable")
    recs = Popularity(window_days=60, popularity_days=60).fit(data, AS_OF).recommend(["s001"], k=8)
    assert recs["product_id"].tolist() == expected.index[:8].tolist()
    np.testing.assert_allclose(recs["score"], expected.iloc[:8], rtol=1e-6)
    assert set(recs["model"]) == {"popularity"}


def _pandas_cooccurrence(data: pd.DataFrame, similarity: str, shrinkage: float) -> pd.DataFrame:
    pairs = data[["subscriber_id", "product_id"]].drop_duplicates()
    buyers = pairs.groupby("product_id").size()
    both = pairs.merge(pairs, on="subscriber_id").query("product_id_x != product_id_y")
    c = both.groupby(["product_id_x", "product_id_y"]).size().rename("c").reset_index()
    ni, nj = buyers[c["product_id_x"]].to_numpy(), buyers[c["product_id_y"]].to_numpy()
    n = pairs["subscriber_id"].nunique()
    base = c["c"] / np.sqrt(ni * nj) if similarity == "cosine" else c["c"] * n / (ni * nj)
    c["s"] = base * c["c"] / (c["c"] + shrinkage)
    return c.pivot(index="product_id_x", columns="product_id_y", values="s").fillna(0.0)


@pytest.mark.parametrize("similarity", ["cosine", "lift"])
def test_cooccurrence_equals_pandas(similarity):
    data = _interactions()
    model = Cooccurrence(similarity=similarity, shrinkage=3.0, neighbours=1000).fit(data, AS_OF)
    items = model.data_.items
    expected = _pandas_cooccurrence(data, similarity, 3.0).reindex(index=items, columns=items, fill_value=0.0)
    np.testing.assert_allclose(model.similarity_.toarray(), expected.to_numpy(), rtol=1e-5, atol=1e-7)
    # scores: the subscriber's items (undecayed history = 1) summed over the similarity rows
    sub = "s005"
    owned = data.loc[data["subscriber_id"] == sub, "product_id"].unique()
    scores = expected.loc[owned].sum().sort_values(ascending=False, kind="stable")
    scores = scores[scores > 0]
    recs = model.recommend([sub], k=5)
    np.testing.assert_allclose(recs["score"], scores.iloc[:5], rtol=1e-5)
    assert set(recs["product_id"]) == set(scores.index[:5]) or scores.iloc[4] == scores.iloc[5]


def test_cooccurrence_keeps_only_the_nearest_neighbours():
    model = Cooccurrence(neighbours=3).fit(_interactions(), AS_OF)
    assert np.diff(model.similarity_.indptr).max() == 3


def test_ease_equals_per_column_ridge_regression():
    rng = np.random.default_rng(0)
    x = (rng.random((40, 7)) < 0.3).astype(float)
    l2 = 2.5
    weights = ease_weights(x, l2)
    for j in range(7):  # column j regressed on the other columns, ridge penalty l2, no intercept
        others = np.delete(np.arange(7), j)
        a = x[:, others]
        expected = np.linalg.solve(a.T @ a + l2 * np.eye(6), a.T @ x[:, j])
        np.testing.assert_allclose(weights[others, j], expected, rtol=1e-9, atol=1e-12)
        assert weights[j, j] == 0.0


def test_ease_scores_are_history_times_weights():
    data = _interactions()
    model = EASE(l2=10, max_items=1000).fit(data, AS_OF)
    binary = model.data_.binary.toarray()
    weights = ease_weights(binary, 10)
    row = model.data_.subscribers.get_loc("s010")
    expected = binary[row] @ weights
    recs = model.recommend(["s010"], k=4)
    top = np.argsort(-expected, kind="stable")[:4]
    assert recs["product_id"].tolist() == model.data_.items[top].tolist()
    np.testing.assert_allclose(recs["score"], expected[top], rtol=1e-5)


def test_buy_again_lists_own_items_by_frequency_then_fills_with_popularity():
    data = pd.DataFrame({
        "subscriber_id": ["a", "a", "a", "b", "c", "c", "d"],
        "product_id": ["x", "x", "y", "z", "z", "y", "z"],
        "ts": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-03-01", "2024-03-02",
                              "2024-03-03", "2024-03-04"], utc=True),
    })
    recs = BuyAgain().fit(data, AS_OF).recommend(["a", "newcomer"], k=3)
    assert recs.loc[recs["subscriber_id"] == "a", "product_id"].tolist() == ["x", "y", "z"]
    assert recs.loc[recs["subscriber_id"] == "a", "model"].tolist() == ["buy_again", "buy_again", "popularity"]
    assert recs.loc[recs["subscriber_id"] == "newcomer", "product_id"].tolist() == ["z", "y", "x"]
    assert set(recs.loc[recs["subscriber_id"] == "newcomer", "model"]) == {"popularity"}


def test_exclude_bought_and_recent_days_and_diversity():
    data = _interactions()
    model = Cooccurrence(exclude_bought=True, recent_days=20, max_per_category=2).fit(data, AS_OF)
    recs = model.recommend(k=6)
    owned = set(zip(data["subscriber_id"], data["product_id"], strict=True))
    assert not any((s, p) in owned for s, p in zip(recs["subscriber_id"], recs["product_id"], strict=True))
    recent = set(data.loc[data["ts"] > AS_OF - pd.Timedelta(days=20), "product_id"])
    assert set(recs["product_id"]) <= recent
    category = data.drop_duplicates("product_id").set_index("product_id")["category"]
    assert recs.assign(c=category.reindex(recs["product_id"]).to_numpy()).groupby(
        ["subscriber_id", "c"]).size().max() <= 2


def test_category_popularity_stays_in_the_top_category():
    data = _interactions()
    model = CategoryPopularity().fit(data, AS_OF)
    recs = model.recommend(["s002"], k=3)
    own = data[data["subscriber_id"] == "s002"]["category"].value_counts()
    top = sorted(own[own == own.max()].index)[0]
    category = data.drop_duplicates("product_id").set_index("product_id")["category"]
    assert set(category[recs["product_id"]]) == {top}


def test_category_features_refuse_data_without_categories():
    data = _interactions().drop(columns="category")
    with pytest.raises(ValidationError, match="needs a category column"):
        CategoryPopularity().fit(data, AS_OF)
    with pytest.raises(ValidationError, match="needs a category column"):
        Cooccurrence(max_per_category=2).fit(data, AS_OF)


@pytest.mark.parametrize("model, message", [
    (Cooccurrence(similarity="jaccard"), "valid: cosine, lift"),
    (Cooccurrence(shrinkage=-1), "non-negative number"),
    (EASE(l2=0), "positive number"),
    (EASE(max_items=2.5), "positive integer"),
    (EASE(neighbours=0), "positive integer"),
    (Popularity(recent_days=-3), "positive number or None"),
    (BuyAgain(exclude_bought=True), "would recommend nothing"),
    (Popularity(exclude_bought="yes"), "True or False"),
])
def test_bad_parameters_are_refused_with_the_valid_choices(model, message):
    with pytest.raises(ValidationError, match=message):
        model.fit(_interactions(), AS_OF)


def test_input_contract():
    with pytest.raises(InputError, match="lack column.*product_id, ts"):
        Popularity().fit(pd.DataFrame({"subscriber_id": ["a"]}), AS_OF)
    naive = _interactions().assign(ts=lambda f: f["ts"].dt.tz_localize(None))
    with pytest.raises(InputError, match="time-zone aware"):
        Popularity().fit(naive, AS_OF)
    with pytest.raises(InputError, match="weight"):
        Popularity().fit(_interactions().assign(weight=-1.0), AS_OF)
    with pytest.raises(ValidationError, match="no interactions at or before"):
        Popularity().fit(_interactions(), "2000-01-01T00:00Z")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Popularity().recommend()
    with pytest.raises(ValidationError, match="positive integer"):
        Popularity().fit(_interactions(), AS_OF).recommend(k=0)


def test_next_category_by_reciprocal_rank():
    from segkit.recommend import next_category

    data = _interactions()
    model = Cooccurrence().fit(data, AS_OF)
    got = next_category(model, ["s003", "newcomer"], depth=6).set_index("subscriber_id")
    recs = model.recommend(["s003"], k=6)
    category = data.drop_duplicates("product_id").set_index("product_id")["category"]
    weights = (1.0 / recs["rank"]).groupby(category.reindex(recs["product_id"]).to_numpy()).sum()
    assert got.loc["s003", "next_category"] == weights.sort_index().idxmax()
    assert got.loc["s003", "score"] == pytest.approx(weights.max())
    assert got.loc["newcomer", "model"] == "popularity"
    with pytest.raises(ValidationError, match="no category to recommend"):
        next_category(Popularity().fit(data.drop(columns="category"), AS_OF))
