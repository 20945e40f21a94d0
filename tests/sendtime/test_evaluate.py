"""evaluate_holdout(): segkit against the global hour and the unshrunk per-subscriber mode."""

from __future__ import annotations

import numpy as np
import pytest

from segkit.errors import ValidationError
from segkit.sendtime import HoldoutEvaluation, evaluate_holdout
from segkit.sendtime._evaluate import _paired_bootstrap, circular_distance


@pytest.fixture(scope="module")
def evaluation(tables):
    return evaluate_holdout(tables, cutoff="2024-10-01", end="2025-01-01", n_boot=500)


def test_beats_the_global_hour(evaluation):
    lifts = evaluation.lifts.set_index(["baseline", "window_hours"])
    for window in (1, 2):
        row = lifts.loc[("global_hour", window)]
        assert row["lift"] > 0.1
        assert row["ci_low"] > 0


def test_not_worse_than_the_unshrunk_mode(evaluation):
    lifts = evaluation.lifts.set_index(["baseline", "window_hours"])
    assert lifts.loc[("subscriber_mode", 1), "ci_high"] > 0


def test_result_object(evaluation):
    assert isinstance(evaluation, HoldoutEvaluation)
    rates = evaluation.rates
    assert set(rates["method"]) == {"segkit", "global_hour", "subscriber_mode"}
    assert (rates["ci_low"] <= rates["hit_rate"]).all() and (rates["hit_rate"] <= rates["ci_high"]).all()
    wide = rates.set_index(["method", "window_hours"])["hit_rate"]
    assert (wide.xs(2, level=1) >= wide.xs(1, level=1)).all()
    assert evaluation.n_subscribers == len(evaluation.per_subscriber) == rates["n"].iloc[0]
    assert "segkit vs global_hour" in evaluation.summary()
    assert "<table" in evaluation._repr_html_()
    assert list(evaluation.to_frame().columns)[:2] == ["baseline", "window_hours"]
    # hit rates are recomputable from the per-subscriber picks
    per = evaluation.per_subscriber
    hit = circular_distance(per["segkit_local_hour"], per["next_open_local_hour"]) <= 1
    assert hit.mean() == pytest.approx(wide[("segkit", 1)])


def test_circular_distance():
    assert list(circular_distance(np.array([23, 0, 5, 12]), np.array([0, 23, 7, 0]))) == [1, 1, 2, 12]


def test_paired_bootstrap_matches_resampling():
    rng = np.random.default_rng(0)
    diff = rng.choice([-1.0, 0.0, 1.0], size=400, p=[0.2, 0.5, 0.3])
    low, high = _paired_bootstrap(diff, 4000, 0.05, np.random.default_rng(1))
    idx = np.random.default_rng(2).integers(0, len(diff), size=(4000, len(diff)))
    direct = diff[idx].mean(axis=1)
    assert low == pytest.approx(np.quantile(direct, 0.025), abs=0.01)
    assert high == pytest.approx(np.quantile(direct, 0.975), abs=0.01)


def test_bad_arguments(tables):
    with pytest.raises(ValidationError, match="after cutoff"):
        evaluate_holdout(tables, cutoff="2024-10-01", end="2024-09-01")
    with pytest.raises(ValidationError, match="n_boot"):
        evaluate_holdout(tables, cutoff="2024-10-01", end="2025-01-01", n_boot=5)
    with pytest.raises(ValidationError, match="no human opens"):
        evaluate_holdout(tables, cutoff="2025-01-02", end="2025-02-01")
