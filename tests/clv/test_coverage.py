"""Planted-truth checks: BG/NBD recovers simulated parameters and its 95% intervals cover them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_simulate import simulate_bgnbd

from segkit.clv import BetaGeo

TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
N_CUSTOMERS = 4000


def _fit_seed(seed: int) -> BetaGeo:
    rng = np.random.default_rng(seed)
    T = rng.uniform(26.0, 39.0, N_CUSTOMERS)  # staggered acquisition, as in CDNOW
    x, tx, ages = simulate_bgnbd(N_CUSTOMERS, *TRUTH.values(), T=T, rng=rng)
    return BetaGeo().fit(x, tx, ages, time_unit="W")


def _covered(model: BetaGeo) -> np.ndarray:
    ci = model.confidence_intervals_
    truth = np.array(list(TRUTH.values()))
    return (ci["lower"].to_numpy() <= truth) & (truth <= ci["upper"].to_numpy())


def test_simulator_matches_model_expectations():
    rng = np.random.default_rng(0)
    x, _, _ = simulate_bgnbd(200_000, *TRUTH.values(), T=39.0, rng=rng)
    model = BetaGeo()
    model.params_ = pd.Series(TRUTH)  # planted values, no fit needed for the pmf
    pmf = model.probability_of_purchases(np.arange(4), 39.0)
    observed = np.bincount(x.astype(int), minlength=4)[:4] / len(x)
    np.testing.assert_allclose(observed, pmf, atol=0.004)


def test_quick_recovery_and_coverage():
    """Three seeds: estimates near the truth (z-scores small) and most intervals cover it."""
    covered = []
    for seed in range(3):
        model = _fit_seed(seed)
        z = (np.log(model.params_.to_numpy()) - np.log(list(TRUTH.values()))) / np.sqrt(np.diag(model.covariance_log_))
        assert np.all(np.abs(z) < 4), (seed, z)
        covered.append(_covered(model))
    assert np.mean(covered) >= 0.75


@pytest.mark.slow
def test_interval_coverage_over_100_seeds():
    """Nominal 95%: pooled coverage over 100 seeds x 4 parameters (400 checks; binomial sd 1.1%).

    Measured: 94.5% pooled (r 95%, alpha 95%, a 96%, b 92%).
    """
    covered = np.array([_covered(_fit_seed(100 + seed)) for seed in range(100)])
    pooled = covered.mean()
    assert 0.92 <= pooled <= 0.98, covered.mean(axis=0)
    assert covered.mean(axis=0).min() >= 0.88, covered.mean(axis=0)
