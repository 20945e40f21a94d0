"""Time-split holdout evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.recommend import EASE, BuyAgain, Cooccurrence, Popularity, evaluate, holdout_metrics

CUTOFF = pd.Timestamp("2024-03-31T23:59:59Z")


def test_holdout_metrics_by_hand():
    got = holdout_metrics(["a", "b", "c", "d"], {"b", "d", "z"}, k=3)
    assert got["recall"] == pytest.approx(1 / 3)  # one hit in the top 3, min(3, 3 relevant)
    assert got["ndcg"] == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3) + 1 / np.log2(4)))
    assert got["hit_rate"] == 1.0
    assert holdout_metrics(["a"], {"a", "b"}, k=1) == {"recall": 1.0, "ndcg": 1.0, "hit_rate": 1.0}
    assert holdout_metrics([], {"a"}, k=5)["recall"] == 0.0


def _split_data(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(80):
        favourite = rng.integers(0, 5)  # each subscriber rebuys a small basket
        basket = [f"p{(favourite * 4 + j) % 20:02d}" for j in range(4)]
        for _ in range(rng.integers(2, 8)):
            rows.append((f"s{user:02d}", rng.choice(basket), CUTOFF - pd.Timedelta(days=rng.uniform(-40, 120))))
    return pd.DataFrame(rows, columns=["subscriber_id", "product_id", "ts"])


def test_evaluate_counts_cold_start_and_scores_against_the_future():
    data = _split_data()
    end = CUTOFF + pd.Timedelta(days=40)
    result = evaluate([Popularity(), BuyAgain(), Cooccurrence(), EASE(l2=5)], data, CUTOFF, end, k=3,
                      n_boot=200)
    table = result.to_frame()
    future = data[data["ts"] > CUTOFF]
    past_ids = set(data.loc[data["ts"] <= CUTOFF, "subscriber_id"])
    assert table["subscribers"].iloc[0] == future["subscriber_id"].nunique()
    assert result.cold_start == len(set(future["subscriber_id"]) - past_ids)
    assert table.loc["popularity", "recall_lift"] == 0.0
    # one subscriber's recall recomputed from the model's own list
    sub = sorted(set(future["subscriber_id"]) & past_ids)[0]
    recs = BuyAgain().fit(data, CUTOFF).recommend([sub], k=3)["product_id"].tolist()
    relevant = set(future.loc[future["subscriber_id"] == sub, "product_id"])
    expected = holdout_metrics(recs, relevant, 3)["recall"]
    assert result.per_subscriber.loc[sub, ("buy_again", "recall")] == pytest.approx(expected)
    for metric in ("recall", "ndcg", "hit_rate"):
        assert (table[f"{metric}_low"] <= table[metric]).all() and (table[metric] <= table[f"{metric}_high"]).all()
    assert table.loc["buy_again", "recall_lift_low"] > 0  # planted rebuying
    assert "cold start" in result.summary() and "<table" in result._repr_html_()


def test_evaluate_refuses_bad_setups():
    data = _split_data()
    with pytest.raises(ValidationError, match="baseline 'popularity' is not among"):
        evaluate([BuyAgain()], data, CUTOFF, CUTOFF + pd.Timedelta(days=5))
    with pytest.raises(ValidationError, match="must be after cutoff"):
        evaluate([Popularity()], data, CUTOFF, CUTOFF)
    with pytest.raises(ValidationError, match="distinct names"):
        evaluate([Popularity(), Popularity()], data, CUTOFF, CUTOFF + pd.Timedelta(days=5))


@pytest.mark.slow
def test_online_retail_holdout_target():
    from segkit.datasets import online_retail
    from segkit.recommend import online_retail_interactions

    data = online_retail_interactions(online_retail())
    result = evaluate([Popularity(), BuyAgain(), Cooccurrence(), EASE()], data,
                      "2011-09-30T23:59:59Z", "2011-12-09T23:59:59Z", k=10)
    table = result.to_frame()
    assert table.loc["ease", "recall_lift_low"] > 0
    assert table.loc["buy_again", "recall"] > table.loc["popularity", "recall"]
    assert result.cold_start > 0
