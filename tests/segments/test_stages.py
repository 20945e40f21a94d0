"""Buyer stage, value potential and category affinity."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.segments import buyer_stages, category_affinity, segment_members, value_potential

AS_OF = pd.Timestamp("2024-06-30", tz="UTC")


def test_buyer_stages_priority() -> None:
    frame = pd.DataFrame({
        "purchase_count_365d": [2, 0, 0, 0, 0], "cart_adds_30d": [1, 1, 0, 0, 0],
        "product_views_30d": [9, 9, 3, 2, np.nan],
    }, index=list("abcde"))
    assert buyer_stages(frame).tolist() == ["customer", "late", "mid", "early", "early"]
    assert list(segment_members(frame, "buyer:late")) == ["b"]


def test_value_potential() -> None:
    clv = pd.Series([100.0, 50, 10, 5, 1, np.nan], index=list("abcdef"))
    engagement = pd.Series([90.0, 50, 50, 10, 80, 10], index=list("abcdef"))
    labels = value_potential(clv, engagement, high_quantile=0.8)
    assert labels.tolist() == ["high", "standard", "standard", "efficiency", "standard", "standard"]
    with pytest.raises(ValidationError, match="high_quantile"):
        value_potential(clv, engagement, high_quantile=1.5)


def test_category_affinity_weights_and_decay() -> None:
    def prop(category: str) -> str:
        return json.dumps({"category": category})

    events = pd.DataFrame({
        "subscriber_id": ["x", "x", "x", "x", "y"],
        "event_type": ["product_view", "product_view", "purchase", "open", "product_view"],
        "ts": pd.to_datetime(["2024-06-30", "2024-06-30", "2024-03-02", "2024-06-30", "2024-07-05"], utc=True),
        "properties": [prop("shoes"), prop("shoes"), prop("home"), prop("beauty"), prop("home")],
    })
    table = category_affinity(events, AS_OF, half_life_days=120)
    x = table[table["subscriber_id"] == "x"].set_index("category")
    assert x.loc["shoes", "score"] == pytest.approx(2.0)
    assert x.loc["home", "score"] == pytest.approx(5 * 0.5 ** (120 / 120))  # 120 days old
    assert list(x.index) == ["home", "shoes"] and x["share"].sum() == pytest.approx(1.0)
    assert "beauty" not in x.index and "y" not in set(table["subscriber_id"])  # opens, future


def test_affinity_recovers_planted_favourites(synthetic_data) -> None:
    table = category_affinity(synthetic_data.events, AS_OF)
    first = table[table["rank"] == 1].set_index("subscriber_id")["category"]
    truth = synthetic_data.truth.subscribers["favorite_category"].reindex(first.index)
    assert (first == truth).mean() > 0.6
