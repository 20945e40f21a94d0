"""Regression tests for every "wrong or self-contradicting" finding of the comparison with
GrowthBook's gbstats, scipy and statsmodels (each failed on the former code)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segkit.errors import ValidationError
from segkit.stats import (
    Metric,
    achieved_power,
    analyze,
    analyze_counts,
    minimum_detectable_effect,
    sample_size,
    srm_check,
)
from segkit.stats._compare import compare, p_value

#: scipy.stats.barnard_exact([[5, 0], [495, 500]], pooled=True, n=64).pvalue (5 s to compute)
BARNARD_0_5_OF_500 = 0.025637034699406116


def means_totals(mean_c, sd_c, n_c, mean_t, sd_t, n_t, **kwargs):
    frame = pd.DataFrame({"arm": ["control", "treatment"], "n": [n_c, n_t],
                          "m_mean": [mean_c, mean_t], "m_sd": [sd_c, sd_t]})
    return analyze_counts(frame, metrics=["m"], **kwargs)


def excludes_zero(low: float, high: float) -> bool:
    return bool(low > 0 or high < 0)


# 1. Relative lift vs p-value ---------------------------------------------------------------

def test_gbstats_means_vector_ships_only_with_an_interval_that_excludes_zero():
    result = means_totals(0.41, 3.9, 3407, 0.70, 6.2, 3461)
    row = result.to_frame().iloc[0]
    rec = result.recommendation
    assert rec.decision == "ship" and row.significant
    assert row.rel_lift_ci_low > 0 and row.abs_lift_ci_low > 0  # was -3.5% with p = 0.020
    assert "+9.4% to +170.9%" in rec.reason and "relative" in rec.reason
    assert result.scale == "relative" and row.scale == "relative"


@pytest.mark.parametrize("correction", ["none", "holm", "bh", "bonferroni"])
def test_significant_and_interval_excludes_zero_never_disagree(correction):
    """On both scales, per comparison and at the corrected level, over many random tests."""
    rng = np.random.default_rng(7)
    for _ in range(6):
        n = rng.integers(5, 400, 3)
        frame = pd.DataFrame({
            "arm": ["control", "b", "c"], "n": n,
            "m_mean": rng.uniform(0.5, 2.0, 3), "m_sd": rng.uniform(0.2, 3.0, 3),
            "click": [rng.binomial(k, 0.05 + 0.1 * rng.random()) for k in n]})
        for alternative in ("two-sided", "larger", "smaller"):
            table = analyze_counts(frame, metrics=["m", "click"], correction=correction,
                                   alternative=alternative).to_frame()
            for r in table[table["refusal"] == ""].itertuples():
                raw = r.p_value < 0.05
                assert excludes_zero(r.abs_lift_ci_low, r.abs_lift_ci_high) == raw
                if np.isfinite(r.rel_lift_ci_low) or np.isfinite(r.rel_lift_ci_high):
                    assert excludes_zero(r.rel_lift_ci_low, r.rel_lift_ci_high) == raw
                assert excludes_zero(r.abs_lift_adj_ci_low, r.abs_lift_adj_ci_high) == r.significant
                if np.isfinite(r.rel_lift_adj_ci_low) or np.isfinite(r.rel_lift_adj_ci_high):
                    assert excludes_zero(r.rel_lift_adj_ci_low, r.rel_lift_adj_ci_high) == \
                        r.significant


def test_absolute_scale_is_declared_and_quoted():
    result = means_totals(0.41, 3.9, 3407, 0.70, 6.2, 3461, scale="absolute")
    assert result.scale == "absolute" and "absolute" in result.recommendation.reason
    assert "+0.29" in result.recommendation.reason
    with pytest.raises(ValidationError, match="unknown scale 'percent'; valid: relative, absolute"):
        means_totals(0.41, 3.9, 3407, 0.70, 6.2, 3461, scale="percent")


@pytest.mark.parametrize("n", [10, 5])
def test_relative_interval_size_under_the_null_at_small_n(n):
    """Normal data, equal means: the relative 95% interval excludes 0 in <= 5% of tests (the
    former z delta-method interval: 7.9% at n = 10, 11.3% at n = 5)."""
    rng = np.random.default_rng(n)
    reps = 20_000
    data = rng.normal(1.0, 1.0, size=(reps, 2, n))
    means, variances = data.mean(axis=2), data.var(axis=2, ddof=1)
    excluded = 0
    for m, v in zip(means, variances, strict=True):
        row = compare("continuous", {"n": n, "mean": m[0], "var": v[0]},
                      {"n": n, "mean": m[1], "var": v[1]}, 0.05, "two-sided")
        low, high = row["rel_lift_ci_low"], row["rel_lift_ci_high"]
        excluded += bool(low > 0 or high < 0)  # NaN (unbounded sets that exclude 1) count too
        excluded += bool(np.isnan(low) and row["p_value"] < 0.05)
    size = excluded / reps
    assert size <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / reps), size


# 2. Tiny counts ------------------------------------------------------------------------------

def test_tiny_counts_use_barnards_exact_test():
    frame = pd.DataFrame({"arm": ["control", "b"], "n": [500, 500], "c": [0, 5]})
    row = analyze_counts(frame, metrics=["c"]).to_frame().iloc[0]
    assert row.test == "Barnard exact unconditional test"
    assert "expected cell count 2.5 < 5" in row.method
    assert row.p_value == pytest.approx(BARNARD_0_5_OF_500, rel=1e-6)
    frame = pd.DataFrame({"arm": ["control", "b"], "n": [10, 10], "c": [1, 5]})
    row = analyze_counts(frame, metrics=["c"]).to_frame().iloc[0]
    ref = stats.barnard_exact([[5, 1], [5, 9]], pooled=True, n=200).pvalue
    assert row.p_value == pytest.approx(ref, rel=1e-6) and not row.significant
    assert row.abs_lift_ci_low < 0 < row.abs_lift_ci_high  # agrees with the exact test


def test_one_unit_per_arm_is_refused_with_a_reason():
    frame = pd.DataFrame({"arm": ["control", "b"], "n": [1, 1], "c": [0, 1]})
    result = analyze_counts(frame, metrics=["c"])
    row = result.to_frame().iloc[0]
    assert np.isnan(row.p_value) and "fewer than two units" in row.refusal
    assert result.recommendation.decision == "inconclusive"
    assert "could not be tested" in result.recommendation.reason


def _exact_size(rate: float, n: int, alpha: float = 0.05, top: int = 14) -> float:
    """Probability, summed over every outcome with up to ``top`` successes per arm, that the
    decision rule of analyze calls a difference when both arms have the same rate."""
    pmf = stats.binom.pmf(np.arange(top + 1), n, rate)
    size = 0.0
    for x_c in range(top + 1):
        for x_t in range(top + 1):
            p = p_value("proportion", {"n": n, "count": x_c}, {"n": n, "count": x_t}, "two-sided")
            size += pmf[x_c] * pmf[x_t] * (p < alpha)
    return size


def test_size_of_the_tiny_count_test_fast():
    """Exact size by enumeration at 1 expected success per arm (p = 0.01, 100 per arm)."""
    assert _exact_size(0.01, 100, top=10) <= 0.05


@pytest.mark.slow
def test_size_of_the_tiny_count_test_at_the_issue_case():
    """p = 0.002 with 500 per arm: exact size by enumeration, and a simulation through
    analyze_counts."""
    assert _exact_size(0.002, 500, top=12) <= 0.05
    rng = np.random.default_rng(19)
    reps, hits = 4000, 0
    cache: dict[tuple[int, int], bool] = {}
    for x_c, x_t in rng.binomial(500, 0.002, size=(reps, 2)):
        key = (int(x_c), int(x_t))
        if key not in cache:
            frame = pd.DataFrame({"arm": ["control", "b"], "n": [500, 500], "c": list(key)})
            cache[key] = bool(analyze_counts(frame, metrics=["c"]).to_frame()["significant"].iloc[0])
        hits += cache[key]
    assert hits / reps <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / reps)


# 3. Degenerate data --------------------------------------------------------------------------

def test_constant_arms_are_refused_not_shipped():
    df = pd.DataFrame({"arm": ["control"] * 20 + ["b"] * 20, "spend": [2.0] * 20 + [3.0] * 20})
    result = analyze(df, metrics=[Metric("spend", kind="continuous")])
    row = result.to_frame().iloc[0]
    assert np.isnan(row.p_value) and "no variation within either arm" in row.refusal
    assert result.recommendation.decision == "inconclusive"
    same = analyze(df.assign(spend=2.0), metrics=[Metric("spend", kind="continuous")])
    assert any("no variation within either arm" in n for n in same.notes)
    assert not any("fewer than two units" in n for n in same.notes)


def test_srm_with_no_units_is_an_error_not_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match="no units in any arm"):
            srm_check({"a": 0, "b": 0})


def test_zero_one_amounts_are_not_silently_proportions():
    df = pd.DataFrame({"arm": ["control", "b"] * 50, "revenue": [0, 1, 1, 0] * 25})
    inferred = analyze(df, metrics=["revenue"])
    assert inferred.to_frame()["kind"].iloc[0] == "proportion"
    assert any("revenue as proportion (only 0/1 values)" in n for n in inferred.notes)
    declared = analyze(df, metrics=[Metric("revenue", kind="continuous")])
    assert declared.to_frame()["kind"].iloc[0] == "continuous"
    assert not any("inferred" in n for n in declared.notes)


def test_fractional_units_are_rejected():
    frame = pd.DataFrame({"arm": ["control", "b"], "n": [1000.5, 1000], "c": [10, 20]})
    with pytest.raises(ValidationError, match="1000.5 units; a number of units must be a whole"):
        analyze_counts(frame, metrics=["c"])
    frame = pd.DataFrame({"arm": ["control", "b"], "n": [1000, 1000], "c": [10.5, 20]})
    with pytest.raises(ValidationError, match="whole number"):
        analyze_counts(frame, metrics=["c"])


def test_integer_arm_labels_with_an_integer_control():
    df = pd.DataFrame({"arm": [0, 1] * 200, "click": [0, 1, 0, 0] * 100})
    result = analyze(df, arm="arm", control=0, metrics=["click"])
    assert result.control == "0" and result.treatments == ("1",)
    frame = pd.DataFrame({"arm": [0, 1], "n": [200, 200], "click": [0, 100]})
    assert analyze_counts(frame, control=0, metrics=["click"]).to_frame()["arm"].iloc[0] == "1"


# 4. Power ------------------------------------------------------------------------------------

def test_sample_size_keeps_the_sign_of_the_effect():
    with pytest.raises(ValidationError, match="alternative='larger' tests for an increase"):
        sample_size(2.0, -0.5, kind="continuous", sd=25, alternative="larger")
    with pytest.raises(ValidationError, match="alternative='smaller' tests for a decrease"):
        sample_size(0.02, 0.002, alternative="smaller")
    n = sample_size(0.02, -0.002, alternative="smaller")
    assert achieved_power(n, 0.02, -0.002, alternative="smaller") >= 0.8
    n = sample_size(2.0, -0.5, kind="continuous", sd=25, alternative="smaller")  # was a raw error
    assert achieved_power(n, 2.0, -0.5, kind="continuous", sd=25, alternative="smaller") >= 0.8
    assert minimum_detectable_effect(n, 2.0, kind="continuous", sd=25,
                                     alternative="smaller") == pytest.approx(-0.5, rel=1e-3)


def test_relative_effect_of_a_zero_baseline_says_why():
    with pytest.raises(ValidationError, match="a relative mde needs a non-zero baseline"):
        sample_size(0.0, 0.1, kind="continuous", sd=1.0, relative=True)


CASES = [  # (args, kwargs) of sample_size: two-sided rate, one-sided decrease, one-sided mean
    ((0.05, 0.01), {}),
    ((0.02, -0.002), {"alternative": "smaller"}),
    ((10.0, 2.0), {"kind": "continuous", "sd": 25.0, "ratio": 2.0, "alternative": "larger"}),
]


@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_every_sample_size_reaches_its_power(args, kwargs):
    n = sample_size(*args, **kwargs)
    assert achieved_power(n, *args, **kwargs) >= 0.8
    assert achieved_power(n - max(1, n // 500), *args, **kwargs) < 0.8 + 1e-3  # not padded


def simulated_power(args, kwargs, reps: int, seed: int) -> float:
    """Power of the analysis's own test (segkit.stats._compare.compare) at sample_size's n."""
    n = sample_size(*args, **kwargs)
    baseline, effect = args
    ratio = kwargs.get("ratio", 1.0)
    n_c = int(round(n * ratio))
    alternative = kwargs.get("alternative", "two-sided")
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        if kwargs.get("kind", "proportion") == "proportion":
            c = {"n": n_c, "count": rng.binomial(n_c, baseline)}
            t = {"n": n, "count": rng.binomial(n, baseline + effect)}
            p = p_value("proportion", c, t, alternative)
        else:
            sd = kwargs["sd"]
            xc, xt = rng.normal(baseline, sd, n_c), rng.normal(baseline + effect, sd, n)
            c = {"n": n_c, "mean": xc.mean(), "var": xc.var(ddof=1)}
            t = {"n": n, "mean": xt.mean(), "var": xt.var(ddof=1)}
            p = p_value("continuous", c, t, alternative)
        hits += p < 0.05
    return hits / reps


@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_sample_sizes_reach_their_power_in_simulation_fast(args, kwargs):
    reps = 1500
    power = simulated_power(args, kwargs, reps, seed=1)
    assert power >= 0.8 - 3 * np.sqrt(0.16 / reps), power


@pytest.mark.slow
@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_sample_sizes_reach_their_power_in_simulation(args, kwargs):
    reps = 10_000
    power = simulated_power(args, kwargs, reps, seed=2)
    assert power >= 0.8 - 2 * np.sqrt(0.16 / reps), power
