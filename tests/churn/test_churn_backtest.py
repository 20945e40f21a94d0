"""Backtest on synthetic data with planted churn: the classifiers beat the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from churn_setup import EVAL_AT, TRAIN_AT

from segkit.churn import BASELINES, ChurnModel, backtest
from segkit.errors import ValidationError


def test_classifier_recovers_planted_churn_and_beats_the_recency_rule(result):
    table = result.to_frame().set_index("model")
    auc = table["roc_auc"]
    print("\nsynthetic ROC-AUC at", EVAL_AT.date(), auc.round(3).to_dict())
    best = result.model.kind
    assert auc[best] >= 0.80
    assert auc[best] > auc["recency_rule"]
    assert auc["logistic"] >= 0.80
    assert auc["base_rate"] == pytest.approx(0.5)
    assert result.verdict.startswith(f"{best} wins")


def test_scores_rank_the_planted_quiet_subscribers_first(result, data):
    """The generator plants when each subscriber goes quiet; those going quiet before the label
    window ends should carry higher scores than those who stay engaged."""
    truth = data.truth.subscribers
    scored = result.scored.set_index("subscriber_id")
    end = EVAL_AT + pd.Timedelta(days=result.horizon_days)
    quiet = (truth.loc[scored.index, "quiet_at"] <= end).to_numpy()
    p = scored["churn_probability"].to_numpy()
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(quiet, p) > 0.75


def test_result_tables(result):
    table = result.to_frame()
    assert len(table) == 2 + len(BASELINES)  # one evaluation cutoff
    assert set(table["model"]) == {"logistic", "gradient_boosting", *BASELINES}
    assert (table["train_cutoff"] == TRAIN_AT).all() and (table["eval_cutoff"] == EVAL_AT).all()
    scored = result.scored
    assert {
        "churn_probability",
        "risk_band",
        "top_reasons",
        "churned",
        "score_recency_rule",
    } <= set(scored.columns)
    assert scored["churned"].mean() == pytest.approx(table["base_rate"].iloc[0])
    imp = result.importance
    assert (imp["model"] == result.model.kind).all()
    assert set(imp["feature"]) == set(result.model.feature_names_in_)
    assert imp["importance_mean"].iloc[0] > 0
    text = result.summary()
    assert "Verdict:" in text and "days_since_last_open > k" in text
    assert "Verdict" in result._repr_html_()
    assert isinstance(result.model, ChurnModel)
    assert len(result.recency_k) == 1 and result.recency_k[0] > 0


def test_backtest_is_deterministic(events, data, result):
    first = result  # built with the same arguments in conftest
    second = backtest(events, data.subscribers, [TRAIN_AT, EVAL_AT], n_repeats=3)
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())
    pd.testing.assert_frame_equal(first.scored, second.scored)
    pd.testing.assert_frame_equal(first.importance, second.importance)


@pytest.mark.parametrize(
    ("cutoffs", "match"),
    [
        ([TRAIN_AT], "at least two cutoffs"),
        ([TRAIN_AT, TRAIN_AT + pd.Timedelta(days=30)], "less than horizon_days=90"),
        ([EVAL_AT, TRAIN_AT], "less than horizon_days"),
        ([TRAIN_AT, pd.Timestamp("2024-12-01", tz="UTC")], "label window"),
        ([pd.Timestamp("2023-01-01", tz="UTC"), TRAIN_AT], "before the first event"),
    ],
)
def test_bad_cutoffs_are_refused(events, data, cutoffs, match):
    with pytest.raises(ValidationError, match=match):
        backtest(events, data.subscribers, cutoffs)


def test_bad_kind_is_refused(events, data):
    with pytest.raises(ValidationError, match="valid: logistic, gradient_boosting"):
        backtest(events, data.subscribers, [TRAIN_AT, EVAL_AT], kind="svm")


def test_recency_rule_threshold_is_tuned_on_training(result):
    k = result.recency_k[0]
    assert np.isfinite(k) and 1 <= k <= 180


@pytest.mark.slow
def test_classifiers_beat_the_baselines_at_every_cutoff_on_a_larger_program():
    from segkit.datasets import synthetic

    bigger = synthetic(6_000, 21)
    events = bigger.events.assign(
        machine_open=bigger.events["event_id"].isin(bigger.truth.machine_open_event_ids)
    )
    cutoffs = [pd.Timestamp(d, tz="UTC") for d in ("2024-03-01", "2024-06-01", "2024-09-01")]
    result = backtest(events, bigger.subscribers, cutoffs, n_repeats=2)
    table = result.to_frame()
    print("\n" + result.summary())
    per_cut = table.pivot_table(index="eval_cutoff", columns="model", values="roc_auc")
    best_baseline = per_cut[list(BASELINES)].max(axis=1)
    assert (per_cut["gradient_boosting"] > best_baseline).all()
    assert (per_cut["logistic"] > best_baseline).all()
    assert (per_cut[["logistic", "gradient_boosting"]] >= 0.80).all().all()
