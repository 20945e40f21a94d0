"""Behavioural scores: exact value on a hand frame, bounds, monotonicity, planted personas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.segments import engagement_score, parse_rules, purchase_intent_score

STEMS = ["human_opens", "clicks", "web_visits", "product_views", "cart_adds", "purchase_count",
         "cart_abandonments"]


def _frame(per_window: dict[int, list[float]]) -> pd.DataFrame:
    frame = pd.DataFrame({f"{s}_{w}d": v for s in STEMS for w, v in per_window.items()})
    frame["days_since_last_purchase"] = np.nan
    return frame


def test_engagement_score_exact_value() -> None:
    # one human open 10 days ago -> band (0, 30], midpoint 15 days, half-life 30
    frame = pd.DataFrame({f"{s}_{w}d": [0.0] for s in STEMS for w in (30, 90, 365)})
    frame[["human_opens_30d", "human_opens_90d", "human_opens_365d"]] = 1.0
    raw = 1.0 * 0.5 ** (15 / 30)
    assert engagement_score(frame).iloc[0] == pytest.approx(100 * (1 - np.exp(-raw / 10)))
    # the same open 200 days ago sits in (90, 365], midpoint 227.5 days
    frame[["human_opens_30d", "human_opens_90d"]] = 0.0
    old = 1.0 * 0.5 ** (227.5 / 30)
    assert engagement_score(frame).iloc[0] == pytest.approx(100 * (1 - np.exp(-old / 10)))


def test_scores_bounded_and_monotone() -> None:
    frame = _frame({30: [0, 1, 5, 50], 90: [0, 2, 8, 80], 365: [0, 3, 9, 90]})
    for score in (engagement_score(frame), purchase_intent_score(frame)):
        assert score.iloc[0] == 0 and (score.diff().dropna() > 0).all() and (score <= 100).all()
    frame.loc[0, "days_since_last_purchase"] = 1.0
    assert purchase_intent_score(frame).iloc[0] > 0
    with pytest.raises(ValidationError, match="half_life_days"):
        engagement_score(frame, half_life_days=0)


def test_scores_follow_personas_and_work_in_rules(synthetic_data, synthetic_features) -> None:
    score = engagement_score(synthetic_features)
    persona = synthetic_data.truth.subscribers["persona"].reindex(score.index)
    means = score.groupby(persona).mean()
    assert means["champions"] > means["occasional"] > means["dormant"]
    enriched = synthetic_features.assign(engagement_score=score)
    rules = parse_rules({"segments": [{"name": "fans", "where": "engagement_score >= 80"}]})
    assert rules.evaluate(enriched)["fans"].sum() == (score >= 80).sum() > 0
