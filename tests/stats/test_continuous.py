"""Welch and Mann-Whitney agree with scipy; intervals cover; the bootstrap is sensible."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from segkit.stats._continuous import bootstrap_interval, compare_means, mann_whitney_p_value


def _spend(rng, n, scale):
    return np.where(rng.random(n) < 0.05, rng.gamma(2.0, scale, n), 0.0)


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_welch_agrees_with_scipy_ttest_ind(alpha):
    rng = np.random.default_rng(1)
    control, treatment = _spend(rng, 3000, 40.0), _spend(rng, 2500, 46.0)
    got = compare_means(control.mean(), control.var(ddof=1), len(control),
                        treatment.mean(), treatment.var(ddof=1), len(treatment), alpha)
    ref = stats.ttest_ind(treatment, control, equal_var=False)
    ci = ref.confidence_interval(1 - alpha)
    assert got["p_value"] == pytest.approx(ref.pvalue, abs=1e-9)
    assert got["abs_lift_ci_low"] == pytest.approx(ci.low, abs=1e-9)
    assert got["abs_lift_ci_high"] == pytest.approx(ci.high, abs=1e-9)


def test_mann_whitney_agrees_with_scipy():
    rng = np.random.default_rng(2)
    control, treatment = _spend(rng, 800, 40.0), _spend(rng, 900, 40.0)
    ref = stats.mannwhitneyu(treatment, control, alternative="two-sided")
    assert mann_whitney_p_value(control, treatment) == pytest.approx(ref.pvalue, abs=1e-9)


def test_bootstrap_interval_is_close_to_welch_for_a_large_sample():
    rng = np.random.default_rng(3)
    control, treatment = rng.normal(10, 3, 2000), rng.normal(10.5, 3, 2000)
    low, high = bootstrap_interval(control, treatment, 0.05, 999, seed=0)
    welch = compare_means(control.mean(), control.var(ddof=1), 2000,
                          treatment.mean(), treatment.var(ddof=1), 2000, 0.05)
    assert low == pytest.approx(welch["abs_lift_ci_low"], abs=0.03)
    assert high == pytest.approx(welch["abs_lift_ci_high"], abs=0.03)


def test_null_false_positive_rate_and_coverage_vectorised():
    rng = np.random.default_rng(4)
    k, n, lift = 4000, 400, 1.5
    control = rng.gamma(2.0, 5.0, (k, n))
    treatment = rng.gamma(2.0, 5.0, (k, n)) + lift
    null = rng.gamma(2.0, 5.0, (k, n))
    same = compare_means(control.mean(1), control.var(1, ddof=1), n,
                         null.mean(1), null.var(1, ddof=1), n, 0.05)
    assert 0.04 <= np.mean(same["p_value"] < 0.05) <= 0.06
    planted = compare_means(control.mean(1), control.var(1, ddof=1), n,
                            treatment.mean(1), treatment.var(1, ddof=1), n, 0.05)
    covered = (planted["abs_lift_ci_low"] <= lift) & (lift <= planted["abs_lift_ci_high"])
    assert 0.94 <= covered.mean() <= 0.96, covered.mean()
