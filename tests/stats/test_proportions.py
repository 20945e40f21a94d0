"""Proportion comparisons agree with statsmodels and keep their nominal error rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.stats.proportion as smp

from segkit.stats._proportions import compare_proportions

CASES = [(50, 1000, 65, 1000), (3, 120, 0, 130), (620, 5000, 540, 4800), (10, 10, 7, 12)]


@pytest.mark.parametrize(("c_count", "c_n", "t_count", "t_n"), CASES)
def test_agrees_with_statsmodels(c_count, c_n, t_count, t_n):
    got = compare_proportions(c_count, c_n, t_count, t_n, 0.05)
    _, p = smp.proportions_ztest([t_count, c_count], [t_n, c_n])
    low, high = smp.confint_proportions_2indep(t_count, t_n, c_count, c_n, method="newcomb")
    assert got["p_value"] == pytest.approx(p, abs=1e-9)
    assert got["abs_lift_ci_low"] == pytest.approx(low, abs=1e-9)
    assert got["abs_lift_ci_high"] == pytest.approx(high, abs=1e-9)
    assert got["abs_lift"] == pytest.approx(t_count / t_n - c_count / c_n, abs=1e-12)


def test_vectorised_over_arms_matches_one_at_a_time():
    c = np.array([c[0] for c in CASES[:3]])
    n = np.array([c[1] for c in CASES[:3]])
    t = np.array([c[2] for c in CASES[:3]])
    m = np.array([c[3] for c in CASES[:3]])
    together = compare_proportions(c, n, t, m, 0.1)
    for i in range(3):
        alone = compare_proportions(c[i], n[i], t[i], m[i], 0.1)
        for key, value in alone.items():
            np.testing.assert_allclose(together[key][i], value, rtol=1e-12, equal_nan=True)


def test_relative_lift_interval_is_the_delta_method():
    got = compare_proportions(200, 2000, 260, 2000, 0.05)
    pc, pt = 0.10, 0.13
    se = np.sqrt((pt * (1 - pt) / 2000) / pc**2 + pt**2 * (pc * (1 - pc) / 2000) / pc**4)
    assert got["rel_lift"] == pytest.approx(0.3, rel=1e-12)
    assert got["rel_lift_ci_low"] == pytest.approx(0.3 - 1.959963984540054 * se, rel=1e-9)
    assert got["rel_lift_ci_high"] == pytest.approx(0.3 + 1.959963984540054 * se, rel=1e-9)


def test_null_false_positive_rate_and_interval_coverage():
    """10,000 simulated A/A and A/B tests in one vectorised call (about a second)."""
    rng = np.random.default_rng(20261123)
    k, n, p, lift = 10_000, 4000, 0.08, 0.01
    null = compare_proportions(rng.binomial(n, p, k), n, rng.binomial(n, p, k), n, 0.05)
    fpr = np.mean(null["p_value"] < 0.05)
    assert 0.04 <= fpr <= 0.06, fpr
    planted = compare_proportions(rng.binomial(n, p, k), n, rng.binomial(n, p + lift, k), n, 0.05)
    covered = (planted["abs_lift_ci_low"] <= lift) & (lift <= planted["abs_lift_ci_high"])
    assert 0.94 <= covered.mean() <= 0.96, covered.mean()
    rel = lift / p
    rel_covered = (planted["rel_lift_ci_low"] <= rel) & (rel <= planted["rel_lift_ci_high"])
    assert 0.94 <= rel_covered.mean() <= 0.96, rel_covered.mean()


@pytest.mark.slow
@pytest.mark.parametrize(("n", "p"), [(500, 0.02), (20_000, 0.01), (2000, 0.3)])
def test_error_rates_across_designs(n, p):
    rng = np.random.default_rng(n)
    k = 100_000
    null = compare_proportions(rng.binomial(n, p, k), n, rng.binomial(n, p, k), n, 0.05)
    assert 0.04 <= np.mean(null["p_value"] < 0.05) <= 0.06
    covered = (null["abs_lift_ci_low"] <= 0) & (0 <= null["abs_lift_ci_high"])
    assert 0.94 <= covered.mean() <= 0.965


def test_newcombe_published_examples():
    """Newcombe (1998) Table II, method 10 (tests/results/stats_newcombe1998_method10.csv)."""
    table = pd.read_csv(Path(__file__).parents[1] / "results" / "stats_newcombe1998_method10.csv",
                        comment="#")
    # segkit compares treatment (x1/n1) with control (x2/n2)
    got = compare_proportions(table.x2, table.n2, table.x1, table.n1, 0.05)
    np.testing.assert_allclose(np.round(got["abs_lift_ci_low"], 4), table.lower, atol=1e-12)
    np.testing.assert_allclose(np.round(got["abs_lift_ci_high"], 4), table.upper, atol=1e-12)
