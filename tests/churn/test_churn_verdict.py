"""Issue 18, item 7: the recency rule on purchase-only data, bounded baseline log loss, and a
verdict that says "wins" only with a paired-bootstrap interval on ROC-AUC and no worse metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.churn import BetaGeoBaseline, RecencyRule
from segkit.churn._backtest_result import _verdict
from segkit.churn._baselines import PROBABILITY_FLOOR
from segkit.churn._compare import METRICS, _Sorted, paired_bootstrap
from segkit.churn._metrics import average_precision, brier_score, decile_table, log_loss, roc_auc
from segkit.clv import BetaGeo


def _frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index([f"s{i}" for i in range(n)], name="subscriber_id"))


def test_recency_rule_reads_purchases_when_there_are_no_opens():
    rng = np.random.default_rng(0)
    days = rng.uniform(0, 200, 400)
    churned = rng.random(400) < days / 200  # the longer since the last purchase, the likelier
    features = _frame(days_since_last_open=np.full(400, np.nan), days_since_last_click=np.full(400, np.nan),
                      days_since_last_purchase=days)
    labels = pd.Series(churned, index=features.index)
    rule = RecencyRule().fit(features, labels)
    assert rule.column_ == "days_since_last_purchase"
    assert roc_auc(churned.astype(int), rule.predict_proba(features)[:, 1]) > 0.65
    opens = RecencyRule().fit(features.assign(days_since_last_open=days[::-1]), labels)
    assert opens.column_ == "days_since_last_open"  # opens first when the data hold them


def test_bgnbd_baseline_log_loss_is_bounded_when_p_alive_is_one():
    """One-time buyers have P(alive) = 1 under BG/NBD; if they churn, an unbounded 0 made the
    log loss about 36 each (15.9 on Online Retail)."""
    features = _frame(frequency=np.r_[np.zeros(60), np.full(40, 3.0)], recency=np.r_[np.zeros(60), np.full(40, 5.0)],
                      T=np.full(100, 50.0))
    baseline = BetaGeoBaseline()
    baseline.model_ = BetaGeo()
    baseline.model_.params_ = pd.Series({"r": 0.6, "alpha": 8.0, "a": 0.8, "b": 2.5})
    baseline.non_buyer_rate_ = 0.3
    p = baseline.predict_proba(features)[:, 1]
    y = np.r_[np.ones(60), np.zeros(40)].astype(int)  # every one-time buyer churned
    assert p[:60].min() == PROBABILITY_FLOOR
    assert log_loss(y, p) <= -np.log(PROBABILITY_FLOOR)
    score = baseline.no_purchase_score(features, 10.0)
    assert PROBABILITY_FLOOR <= score.min() and score.max() <= 1 - PROBABILITY_FLOOR
    exact = baseline.probability_no_purchase(features, 10.0)
    assert roc_auc(y, score) == roc_auc(y, exact)  # the mapping keeps the order


def test_weighted_metrics_at_unit_weights_equal_the_metrics():
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.3).astype(int)
    p = np.round(np.clip(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.2, 500), 0, 1), 2)  # ties
    got = dict(zip(METRICS, _Sorted.of(y, p).metrics(np.ones(500)), strict=True))
    assert got["roc_auc"] == pytest.approx(roc_auc(y, p), rel=1e-12)
    assert got["pr_auc"] == pytest.approx(average_precision(y, p), rel=1e-12)
    assert got["top_decile_lift"] == pytest.approx(decile_table(y, p)["lift"].iloc[0], rel=1e-12)
    assert got["brier"] == pytest.approx(brier_score(y, p), rel=1e-12)
    assert got["log_loss"] == pytest.approx(log_loss(y, p), rel=1e-12)
    doubled = _Sorted.of(np.r_[y, y], np.r_[p, p]).metrics(np.ones(1000))  # weight 2 = two copies
    np.testing.assert_allclose(_Sorted.of(y, p).metrics(np.full(500, 2.0)), doubled, rtol=1e-12)


def _population(rng: np.random.Generator, n: int, model_noise: float, base_noise: float):
    y = (rng.random(n) < 0.4).astype(int)
    signal = y + rng.normal(0, 1, n)
    model = 1 / (1 + np.exp(-(signal + rng.normal(0, model_noise, n))))
    base = 1 / (1 + np.exp(-(signal + rng.normal(0, base_noise, n))))
    return y, {"logistic": model, "bgnbd_no_purchase": base}


def test_clearly_better_classifier_wins():
    rng = np.random.default_rng(2)
    pops = [_population(rng, 3000, 0.1, 2.0) for _ in range(2)]
    table = paired_bootstrap(pops, "logistic", "bgnbd_no_purchase", n_resamples=100)
    assert table.set_index("metric").loc["roc_auc", "first_better"]
    assert _verdict(table, 2).startswith("logistic wins: ROC-AUC")


def test_a_tiny_roc_auc_edge_with_worse_pr_auc_and_lift_is_not_a_win():
    """The Online Retail report said "logistic wins: ROC-AUC 0.727 vs 0.721" while PR-AUC and
    top-decile lift were worse. Same scores for both except a small shuffle: within noise."""
    rng = np.random.default_rng(3)
    y, scores = _population(rng, 2000, 1.0, 1.0)
    scores["logistic"] = scores["bgnbd_no_purchase"] + rng.normal(0, 0.02, len(y)).clip(-0.02, 0.02)
    scores["logistic"] = scores["logistic"].clip(0, 1)
    table = paired_bootstrap([(y, scores)], "logistic", "bgnbd_no_purchase", n_resamples=200)
    verdict = _verdict(table, 1)
    assert "wins" not in verdict and "within noise" in verdict, verdict


def test_verdict_names_disagreeing_metrics():
    table = pd.DataFrame({
        "metric": METRICS, "first": "logistic", "second": "bgnbd_no_purchase",
        "value_first": [0.727, 0.642, 1.46, 0.2, 0.6], "value_second": [0.721, 0.656, 1.55, 0.2, 0.6],
        "difference": [0.006, -0.014, -0.09, 0.0, 0.0], "lower": [0.002, -0.02, -0.15, -0.01, -0.01],
        "upper": [0.01, -0.008, -0.03, 0.01, 0.01], "lower_is_better": [False, False, False, True, True],
        "first_better": [True, False, False, False, False], "first_worse": [False, True, True, False, False],
    })  # fmt: skip
    verdict = _verdict(table, 2)
    assert verdict.startswith("No clear winner: logistic ranks better")
    assert verdict.endswith("worse on PR-AUC and top-decile lift.")
