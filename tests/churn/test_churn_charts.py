"""The churn chart builders render the evaluation tables they are given."""

from __future__ import annotations

import pytest

from segkit import charts


@pytest.mark.parametrize(
    "builder",
    [
        charts.churn_roc_chart,
        charts.churn_pr_chart,
        charts.churn_gains_chart,
        charts.churn_lift_chart,
        charts.churn_calibration_chart,
        charts.churn_importance_chart,
    ],
)
def test_chart_builds_from_a_backtest(result, builder):
    spec = builder(result).to_dict()
    assert spec["layer"]
    rows = sum(len(v) for v in spec.get("datasets", {}).values())
    assert 0 < rows <= 5_000  # below altair's embedded-rows limit


def test_roc_chart_names_each_model_with_its_auc(result):
    spec = charts.churn_roc_chart(result.evaluation).to_dict()
    series = {
        row["series"] for data in spec["datasets"].values() for row in data if "series" in row
    }
    auc = result.evaluation.metrics.set_index("model")["roc_auc"]
    assert series == {f"{m} (AUC {v:.3f})" for m, v in auc.items()}


def test_importance_chart_shows_the_top_features(result):
    spec = charts.churn_importance_chart(result.importance, top=5).to_dict()
    features = {row["feature"] for data in spec["datasets"].values() for row in data}
    assert features == set(result.importance["feature"].head(5))
