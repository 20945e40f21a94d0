"""The evaluation metrics agree with scikit-learn computed independently."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from segkit.churn import evaluate
from segkit.errors import ValidationError


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(7)
    n = 3_000
    y = rng.random(n) < 0.2
    signal = rng.normal(size=n) + 1.2 * y
    p = 1 / (1 + np.exp(-(signal - 1.5)))
    rounded = np.round(p, 2)  # many ties
    return y.astype(int), {"model": p, "tied": rounded, "constant": np.full(n, y.mean())}


def test_headline_metrics_match_sklearn(sample):
    y, scores = sample
    table = evaluate(y, scores, threshold=0.3).to_frame().set_index("model")
    for name, p in scores.items():
        row = table.loc[name]
        assert row["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
        assert row["pr_auc"] == pytest.approx(skm.average_precision_score(y, p), abs=1e-12)
        assert row["brier"] == pytest.approx(skm.brier_score_loss(y, p), abs=1e-12)
        assert row["log_loss"] == pytest.approx(skm.log_loss(y, p), abs=1e-9)
        flagged = (p >= 0.3).astype(int)
        assert row["recall"] == pytest.approx(skm.recall_score(y, flagged), abs=1e-12)
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(y, flagged), abs=1e-12)
        if flagged.any():
            assert row["precision"] == pytest.approx(skm.precision_score(y, flagged), abs=1e-12)
            assert row["f1"] == pytest.approx(skm.f1_score(y, flagged), abs=1e-12)
        else:
            assert np.isnan(row["precision"])


def test_curves_match_sklearn(sample):
    y, scores = sample
    result = evaluate(y, scores)
    for name in ("model", "tied"):
        p = scores[name]
        fpr, tpr, _ = skm.roc_curve(y, p, drop_intermediate=False)
        ours = result.roc[result.roc["model"] == name]
        np.testing.assert_allclose(ours["fpr"], fpr, atol=1e-12)
        np.testing.assert_allclose(ours["tpr"], tpr, atol=1e-12)
        observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
        cal = result.calibration[result.calibration["model"] == name]
        np.testing.assert_allclose(cal["observed_rate"], observed, atol=1e-12)
        np.testing.assert_allclose(cal["mean_predicted"], predicted, atol=1e-12)


def test_deciles_gain_and_lift(sample):
    y, scores = sample
    deciles = evaluate(y, scores).deciles
    constant = deciles[deciles["model"] == "constant"]
    # A constant score shares ties pro rata: exactly the random diagonal.
    np.testing.assert_allclose(constant["cumulative_gain"], np.arange(1, 11) / 10, atol=1e-12)
    np.testing.assert_allclose(constant["lift"], 1.0, atol=1e-12)
    model = deciles[deciles["model"] == "model"]
    p = scores["model"]
    top = np.argsort(-p, kind="stable")[: len(y) // 10]
    assert model["churners"].iloc[0] == pytest.approx(y[top].sum())
    assert model["lift"].iloc[0] == pytest.approx(y[top].mean() / y.mean())
    assert model["cumulative_gain"].iloc[-1] == pytest.approx(1.0)
    assert model["churners"].sum() == pytest.approx(y.sum())


def test_summary_and_html_name_the_best_model(sample):
    y, scores = sample
    result = evaluate(y, scores, baselines=["constant"])
    assert result.best_model == "model"
    assert "Best ROC-AUC: model" in result.summary()
    assert "<table" in result._repr_html_()
    assert set(result.to_frame()["role"]) == {"model", "baseline"}


def test_bad_inputs_are_named(sample):
    y, scores = sample
    with pytest.raises(ValidationError, match="'model' have 3 values"):
        evaluate(y, {"model": [0.1, 0.2, 0.3]})
    with pytest.raises(ValidationError, match=r"in \[0, 1\]"):
        evaluate(y, {"model": scores["model"] * 3})
    with pytest.raises(ValidationError, match="both classes"):
        evaluate(np.zeros(5), {"model": np.full(5, 0.1)})
    with pytest.raises(ValidationError, match="threshold"):
        evaluate(y, scores, threshold=1.5)
    with pytest.raises(ValidationError, match="not in scores_by_model"):
        evaluate(y, scores, baselines=["recency_rule"])
    with pytest.raises(ValidationError, match="0/1"):
        evaluate(np.full(len(y), 2), scores)
