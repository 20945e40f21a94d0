"""Baselines: the recency rule's tuned k, and BG/NBD's probability of no purchase checked by
simulation from the model itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.churn import BetaGeoBaseline, RecencyRule
from segkit.churn._baselines import PROBABILITY_FLOOR
from segkit.clv import BetaGeo
from segkit.errors import NotFittedError

PARAMS = {"r": 0.6, "alpha": 8.0, "a": 0.8, "b": 2.5}


def _frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index([f"s{i}" for i in range(n)], name="subscriber_id"))


def test_recency_rule_picks_the_separating_k():
    days = np.array([1, 2, 3, 5, 8, 40, 50, 60, np.nan, 4] * 3, dtype=float)
    churned = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 0] * 3, dtype=bool)
    features = _frame(days_since_last_open=days)
    labels = pd.Series(churned, index=features.index)
    rule = RecencyRule().fit(features, labels)
    assert rule.k_ == 8 and rule.youden_j_ == pytest.approx(1.0)
    assert rule.rate_flagged_ == 1.0 and rule.rate_unflagged_ == 0.0
    proba = rule.predict_proba(features)[:, 1]
    np.testing.assert_array_equal(proba, churned.astype(float))  # never-openers are flagged
    with pytest.raises(NotFittedError):
        RecencyRule().predict_proba(features)


def _simulate(rng: np.random.Generator, n: int, T: float, t: float):
    """BG/NBD customers from their first purchase at 0: (x, t_x) in (0, T] and whether they buy in
    (T, T + t]."""
    lam = rng.gamma(PARAMS["r"], 1 / PARAMS["alpha"], n)
    p = rng.beta(PARAMS["a"], PARAMS["b"], n)
    now, x, tx = np.zeros(n), np.zeros(n), np.zeros(n)
    alive, bought_later = np.ones(n, bool), np.zeros(n, bool)
    while alive.any():
        nxt = now + rng.exponential(1 / lam)
        in_cal = alive & (nxt <= T)
        in_hold = alive & (nxt > T) & (nxt <= T + t)
        bought_later |= in_hold
        x[in_cal] += 1
        tx[in_cal] = nxt[in_cal]
        now = np.where(in_cal, nxt, now)
        # dropout after each repeat purchase; anyone past the calibration end is settled
        alive = in_cal & (rng.random(n) >= p)
    return x, tx, bought_later


def test_probability_of_no_purchase_matches_simulation():
    """E[P(Y(t) = 0 | x, t_x, T)] over customers equals the share who do not buy in (T, T+t]
    (law of total probability), for customers drawn from the same BG/NBD."""
    rng = np.random.default_rng(3)
    T, t = 30.0, 20.0
    x, tx, bought = _simulate(rng, 40_000, T, t)
    features = _frame(frequency=x, recency=tx, T=np.full(len(x), T))
    baseline = BetaGeoBaseline()
    baseline.model_ = BetaGeo()
    baseline.model_.params_ = pd.Series(PARAMS)
    baseline.non_buyer_rate_ = 0.5
    predicted = baseline.probability_no_purchase(features, t)
    assert predicted.mean() == pytest.approx(1 - bought.mean(), abs=0.01)
    # and per frequency group, where the sample is large
    for value in (0, 1, 2):
        group = x == value
        assert predicted[group].mean() == pytest.approx(1 - bought[group].mean(), abs=0.02)
    # limits: t = 0 -> 1; t -> infinity -> 1 - P(alive)
    np.testing.assert_allclose(baseline.probability_no_purchase(features, 0.0), 1.0)
    far = baseline.no_purchase_score(features, 1e12)
    np.testing.assert_allclose(far, baseline.predict_proba(features)[:, 1], atol=1e-6)


def test_non_buyers_get_the_training_rate():
    features = _frame(
        frequency=[np.nan, 0.0, 2.0], recency=[np.nan, 0.0, 10.0], T=[np.nan, 0.0, 20.0]
    )
    baseline = BetaGeoBaseline()
    baseline.model_ = BetaGeo()
    baseline.model_.params_ = pd.Series(PARAMS)
    baseline.non_buyer_rate_ = 0.4
    churn = baseline.predict_proba(features)[:, 1]
    assert churn[0] == 0.4 and churn[1] == PROBABILITY_FLOOR and 0 < churn[2] < 1
