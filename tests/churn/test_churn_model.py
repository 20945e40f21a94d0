"""ChurnModel: fitting, scoring, reasons, determinism, leakage and every refusal."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from churn_setup import TRAIN_AT

from segkit.churn import ChurnModel, churn_features, churn_labels
from segkit.churn._reasons import linear_contributions
from segkit.errors import NotFittedError, ValidationError

FEW = ["days_since_last_open", "human_opens_90d", "clicks_90d", "tenure_days", "frequency"]


@pytest.fixture(scope="module")
def train(events, data):
    features = churn_features(events, TRAIN_AT, subscribers=data.subscribers)
    return features, churn_labels(events, TRAIN_AT)


def test_future_events_leave_features_unchanged(events, data, train):
    features, _ = train
    past = events[events["ts"] <= TRAIN_AT]
    future = events[events["ts"] > TRAIN_AT].head(5_000).copy()
    future["ts"] = future["ts"] + pd.Timedelta(days=3)
    stranger = future.head(50).assign(
        subscriber_id="s999999", event_id=lambda f: f["event_id"] + "x"
    )
    extended = pd.concat([events, future.assign(event_id=future["event_id"] + "f"), stranger])
    for table in (past, extended):
        again = churn_features(table, TRAIN_AT, subscribers=data.subscribers)
        pd.testing.assert_frame_equal(again, features)


def test_later_events_leave_labels_unchanged(events, train):
    _, labels = train
    end = pd.Timestamp(labels.attrs["label_end"])
    later = events[events["ts"] > end].copy()
    later["ts"] = later["ts"] + pd.Timedelta(days=30)
    extended = pd.concat([events, later.assign(event_id=later["event_id"] + "l")])
    pd.testing.assert_frame_equal(churn_labels(extended, TRAIN_AT), labels)


@pytest.mark.parametrize("kind", ["logistic", "gradient_boosting"])
def test_fit_and_score(train, kind):
    features, labels = train
    model = ChurnModel(kind).fit(features, labels)
    assert model.n_samples_ == int(labels["churned"].notna().sum())
    assert model.base_rate_ == pytest.approx(labels["churned"].dropna().astype(bool).mean())
    scored = model.score(features)
    assert list(scored.columns) == [
        "subscriber_id",
        "churn_probability",
        "risk_band",
        "top_reasons",
    ]
    assert len(scored) == len(features)
    assert scored["churn_probability"].is_monotonic_decreasing
    assert scored["churn_probability"].between(0, 1).all()
    expected = np.select(
        [scored["churn_probability"] >= 0.6, scored["churn_probability"] >= 0.3],
        ["high", "medium"],
        "low",
    )
    assert (scored["risk_band"].astype(str).to_numpy() == expected).all()
    reason = r"\w+ (low|high|missing|present) \(\+[0-9.e-]+\)"
    pattern = re.compile(rf"^{reason}(; {reason}){{0,2}}$")
    reasons = scored["top_reasons"]
    assert reasons.str.len().gt(0).mean() > 0.9
    assert all(pattern.match(r) for r in reasons if r)
    proba = model.predict_proba(features)
    assert proba.shape == (len(features), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_fit_is_deterministic(train):
    features, labels = train
    model = ChurnModel("gradient_boosting", random_state=3, features=FEW)
    first = model.fit(features, labels).score(features)
    second = ChurnModel(**model.get_params()).fit(features, labels).score(features)
    pd.testing.assert_frame_equal(first, second)


def test_logistic_contributions_add_up_to_the_linear_predictor(train):
    features, labels = train
    model = ChurnModel("logistic", features=FEW).fit(features, labels)
    matrix = features[FEW].astype(float)
    contributions, names, directions = linear_contributions(model.pipeline_, matrix)
    assert names.count("frequency") == 2  # the value and its missing-value indicator
    assert set(np.unique(directions)) <= {"low", "high", "missing", "present"}
    intercept = model.pipeline_[-1].intercept_[0]
    np.testing.assert_allclose(
        contributions.sum(axis=1) + intercept, model.pipeline_.decision_function(matrix), atol=1e-9
    )


def test_gradient_boosting_reasons_are_occlusion_effects(train):
    features, labels = train
    model = ChurnModel("gradient_boosting", features=FEW).fit(features, labels)
    top = model.score(features).iloc[0]
    match = re.match(r"^(\w+) (low|high|missing) \(\+([0-9.e-]+)\)", top["top_reasons"])
    name, _, value = match.groups()
    row = features.loc[[top["subscriber_id"]], FEW].astype(float)
    moved = row.copy()
    moved[name] = model.training_medians_[name]
    effect = model.estimator_.predict_proba(row)[0, 1] - model.estimator_.predict_proba(moved)[0, 1]
    assert effect == pytest.approx(float(value), rel=1e-2)


def test_default_features_drop_uninformative_columns(train):
    features, labels = train
    model = ChurnModel("logistic").fit(features.assign(flat=1.0, empty=np.nan), labels)
    assert model.dropped_features_ == {"empty": "all missing", "flat": "constant"}
    assert "opens_hour_08" not in model.feature_names_in_


def test_refusals_name_the_problem(train):
    features, labels = train
    few_churners = labels.copy()
    churned = few_churners.index[few_churners["churned"].fillna(False).astype(bool)]
    few_churners.loc[churned[5:], "churned"] = False
    with pytest.raises(ValidationError, match=r"too few churners \(positives\) to fit: 5 of"):
        ChurnModel().fit(features, few_churners)
    all_churned = labels.assign(churned=labels["churned"].where(labels["churned"].isna(), True))
    with pytest.raises(ValidationError, match="too few non-churners"):
        ChurnModel().fit(features, all_churned)
    odd = features.assign(flat=2.0, empty=np.nan)
    with pytest.raises(ValidationError, match="all missing: empty; constant: flat"):
        ChurnModel(features=[*FEW, "flat", "empty"]).fit(odd, labels)
    with pytest.raises(ValidationError, match="missing from the feature table: nope"):
        ChurnModel(features=["nope"]).fit(features, labels)
    with pytest.raises(ValidationError, match="valid: 'logistic', 'gradient_boosting'"):
        ChurnModel("forest").fit(features, labels)
    with pytest.raises(ValidationError, match="calibration"):
        ChurnModel(calibration="platt").fit(features, labels)
    with pytest.raises(ValidationError, match="no feature row"):
        ChurnModel().fit(features.iloc[10:], labels)
    with pytest.raises(NotFittedError, match="not fitted"):
        ChurnModel().score(features)


def test_quantile_binner_keeps_order_and_missing_values():
    from segkit.churn._binning import QuantileBinner

    rng = np.random.default_rng(0)
    wide = rng.normal(size=1_000)
    narrow = rng.integers(0, 5, 1_000).astype(float)
    narrow[:10] = np.nan
    X = np.column_stack([wide, narrow])
    binned = QuantileBinner(n_bins=16).fit(X).transform(X)
    assert len(np.unique(binned[:, 0])) == 16  # quantile bins of the continuous column
    order = np.argsort(wide)
    assert np.all(np.diff(binned[order, 0]) >= 0)  # monotone in the value
    assert np.isnan(binned[:10, 1]).all()
    present = ~np.isnan(narrow)
    assert np.array_equal(binned[present, 1], narrow[present])  # few values: one bin each


def test_calibration_undoes_the_class_weight_bias(events, data, train):
    """Balanced class weights push raw probabilities towards 0.5; the calibrated model's
    probabilities match the observed churn rate out of time (Brier score and mean)."""
    from churn_setup import EVAL_AT

    from segkit.churn import evaluate

    features, labels = train
    later = churn_features(events, EVAL_AT, subscribers=data.subscribers)
    outcome = churn_labels(events, EVAL_AT).dropna(subset=["churned"]).set_index("subscriber_id")
    rows = later.loc[outcome.index]
    y = outcome["churned"].astype(bool).to_numpy()
    scores = {
        name: ChurnModel("logistic", features=FEW, calibration=cal).fit(features, labels)
        .predict_proba(rows)[:, 1]
        for name, cal in (("raw", None), ("sigmoid", "sigmoid"), ("isotonic", "isotonic"))
    }  # fmt: skip
    table = evaluate(y, scores).to_frame().set_index("model")
    assert table.loc["sigmoid", "brier"] < table.loc["raw", "brier"]
    assert table.loc["isotonic", "brier"] < table.loc["raw", "brier"]
    assert abs(scores["sigmoid"].mean() - y.mean()) < 0.05 < abs(scores["raw"].mean() - y.mean())


def test_set_params_follows_the_constructor():
    model = ChurnModel().set_params(kind="gradient_boosting", cv=4)
    assert model.get_params()["kind"] == "gradient_boosting" and model.cv == 4
    with pytest.raises(ValidationError, match="unknown ChurnModel parameter"):
        ChurnModel().set_params(depth=3)
