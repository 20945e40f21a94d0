"""The recommendations report's sections (numbers tested here, not in the notebook)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.recommend import evaluate
from segkit.reports.sections.recommendations import (
    NO_FEATURES,
    example_lists,
    holdout_verdict,
    lift_by_scheme,
    lift_by_segment,
    load_interactions,
    report_models,
    resolve_split,
    scheme_segments,
)

from .test_recommend_evaluate import CUTOFF, _split_data


@pytest.fixture(scope="module")
def run():
    data = _split_data()
    models = report_models()
    result = evaluate(models, data, CUTOFF, CUTOFF + pd.Timedelta(days=40), k=3, n_boot=200)
    return data, models, result


def test_lift_by_segment_adds_up(run):
    data, models, result = run
    table = lift_by_segment(result, models).set_index("segment")
    assert table["subscribers"].sum() == len(result.per_subscriber)
    assert table.loc["cold start (no history)", "subscribers"] == result.cold_start
    recall = result.per_subscriber.xs("recall", axis=1, level="metric")
    weighted = (table["buy_again"] * table["subscribers"]).sum() / table["subscribers"].sum()
    assert weighted == pytest.approx(recall["buy_again"].mean())
    assert table["buy_again lift"].equals(table["buy_again"] - table["popularity"])


def test_lift_by_scheme_is_the_paired_difference_within_each_segment(run):
    data, models, result = run
    labels = scheme_segments(data, result.cutoff, "rfm")
    table = lift_by_scheme(result, labels, n_boot=300)
    recall = result.per_subscriber.xs("recall", axis=1, level="metric")
    # independent: pandas group means of the per-subscriber differences
    segment = labels.reindex(recall.index).fillna(NO_FEATURES)
    expected = recall["ease"].sub(recall["popularity"]).groupby(segment).agg(["mean", "size"])
    got = table[table["model"] == "ease"].set_index("segment")
    np.testing.assert_allclose(got["lift"], expected["mean"].reindex(got.index), rtol=1e-12)
    assert got["subscribers"].sum() == len(recall) and set(table["model"]) == {"buy_again", "cooccurrence", "ease"}
    assert (got["lift_low"] <= got["lift"] + 1e-12).all() and (got["lift"] <= got["lift_high"] + 1e-12).all()
    # cold start: nothing before the cutoff, so popularity for every model (zero lift, no width)
    cold = table[table["segment"] == NO_FEATURES]
    assert cold["subscribers"].iloc[0] == result.cold_start
    assert (cold[["lift", "lift_low", "lift_high"]] == 0).all().all()
    # the RFM groups come from recency and frequency of the purchases before the cutoff
    assert set(labels) <= {"champions", "loyal", "potential_loyalists", "new_customers", "promising",
                           "need_attention", "about_to_sleep", "cant_lose", "at_risk", "hibernating", "lapsed"}


def test_examples_are_pseudonymous_and_verdict_reads_the_interval(run):
    data, models, result = run
    lists = example_lists(models[1], result, n=2, k=3)
    assert lists["subscriber"].nunique() == 2
    assert not set(lists["subscriber"]) & set(data["subscriber_id"])
    verdict = holdout_verdict(result, min_subscribers=10)
    assert verdict.sufficient == bool(result.table.drop(index="popularity")["recall_lift_low"].max() > 0)
    assert not holdout_verdict(result, min_subscribers=10_000).sufficient


def test_split_and_source_checks():
    data = _split_data()
    start, stop = resolve_split(data, "", "", 10)
    assert stop == data["ts"].max() and stop - start == pd.Timedelta(days=10)
    start, _ = resolve_split(data, "2024-03-01", "", 10)
    assert start == pd.Timestamp("2024-03-01T23:59:59.999999Z")
    with pytest.raises(ValidationError, match="must be before end"):
        resolve_split(data, "2024-05-01", "2024-04-01", 10)
    with pytest.raises(ValidationError, match="valid: workspace, online_retail"):
        load_interactions("csv")
