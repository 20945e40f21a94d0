"""Simulations of the error rates segkit promises: interval coverage on both scales, and the
sequential test's false positives under daily peeking and its power (fast versions run by
default; the larger ones are marked slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.stats import sequential_power, sequential_test
from segkit.stats._compare import compare
from segkit.stats._ratio import ratio_estimate

#: The issue's sequential case: 2.0% -> 2.6% conversion, 300 units per arm per day, 14 daily looks.
BASE, LIFT, DAILY, LOOKS = 0.020, 0.30, 300, 14


def coverage(rows: list[dict], true_abs: float, true_rel: float) -> tuple[float, float]:
    abs_hits = np.mean([r["abs_lift_ci_low"] <= true_abs <= r["abs_lift_ci_high"] for r in rows])
    rel_hits = np.mean([r["rel_lift_ci_low"] <= true_rel <= r["rel_lift_ci_high"] for r in rows])
    return float(abs_hits), float(rel_hits)


def continuous_rows(reps: int, n: int, seed: int) -> list[dict]:
    """Skewed revenue-like data (gamma, CV 1.4) with a 10% lift."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(reps):
        c, t = rng.gamma(0.5, 20.0, n), rng.gamma(0.5, 22.0, n)
        rows.append(compare("continuous", {"n": n, "mean": c.mean(), "var": c.var(ddof=1)},
                            {"n": n, "mean": t.mean(), "var": t.var(ddof=1)}, 0.05, "two-sided"))
    return rows


def ratio_rows(reps: int, n: int, seed: int) -> list[dict]:
    """Clicks per open with a 20% higher click propensity in the treatment."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(reps):
        arms = []
        for rate in (0.2, 0.24):
            opens = rng.poisson(2.0, n)
            arms.append(ratio_estimate(rng.binomial(opens, rate), opens))
        rows.append(compare("ratio", {"n": n, "mean": arms[0][0], "var": arms[0][1]},
                            {"n": n, "mean": arms[1][0], "var": arms[1][1]}, 0.05, "two-sided"))
    return rows


def proportion_rows(reps: int, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [compare("proportion", {"n": n, "count": rng.binomial(n, 0.05)},
                    {"n": n, "count": rng.binomial(n, 0.06)}, 0.05, "two-sided")
            for _ in range(reps)]


def test_coverage_continuous_and_ratio_fast():
    reps = 4000
    abs_cov, rel_cov = coverage(continuous_rows(reps, 400, seed=1), 1.0, 0.10)
    assert 0.94 <= abs_cov <= 0.96 and 0.94 <= rel_cov <= 0.96, (abs_cov, rel_cov)
    abs_cov, rel_cov = coverage(ratio_rows(reps, 500, seed=2), 0.04, 0.20)
    assert 0.94 <= abs_cov <= 0.96 and 0.94 <= rel_cov <= 0.96, (abs_cov, rel_cov)


@pytest.mark.slow
def test_coverage_of_every_kind():
    reps = 10_000
    for rows, true_abs, true_rel in ((continuous_rows(reps, 400, 11), 1.0, 0.10),
                                     (ratio_rows(reps, 500, 12), 0.04, 0.20),
                                     (proportion_rows(reps, 3000, 13), 0.01, 0.20)):
        abs_cov, rel_cov = coverage(rows, true_abs, true_rel)
        assert 0.94 <= abs_cov <= 0.96 and 0.94 <= rel_cov <= 0.96, (abs_cov, rel_cov)


def test_coverage_of_proportions_fast():
    reps = 500
    abs_cov, rel_cov = coverage(proportion_rows(reps, 3000, seed=3), 0.01, 0.20)
    band = 3 * np.sqrt(0.05 * 0.95 / reps)
    assert abs(abs_cov - 0.95) <= band and abs(rel_cov - 0.95) <= band, (abs_cov, rel_cov)


def test_sequential_error_under_daily_peeking_and_power_at_the_issue_case():
    result = sequential_power(BASE, LIFT, DAILY, LOOKS, simulations=4000, random_state=5)
    assert result.false_positive_rate <= 0.05
    assert result.always_valid >= 0.15, result.summary()
    assert result.fixed_horizon > result.always_valid  # the price of looking every day
    assert 0.38 <= result.fixed_horizon <= 0.48  # the issue measured 43%
    assert "always-valid power" in result.summary() and len(result.to_frame()) == 2


def simulated_units(rng, lift: float) -> pd.DataFrame:
    days = np.repeat(pd.date_range("2024-03-01", periods=LOOKS).strftime("%Y-%m-%d"), 2 * DAILY)
    arm = np.tile(np.repeat(["control", "b"], DAILY), LOOKS)
    rate = np.where(arm == "b", BASE * (1 + lift), BASE)
    return pd.DataFrame({"date": days, "arm": arm, "conversion": (rng.random(len(arm)) < rate)
                         .astype(int)})


def test_sequential_test_is_what_the_simulation_runs():
    """sequential_test on unit rows gives the look statistics sequential_power simulates, tuned to
    the units at the last look (8,400 here)."""
    data = simulated_units(np.random.default_rng(3), LIFT)
    result = sequential_test(data, metric="conversion")
    assert result.planned_n == 2 * DAILY * LOOKS
    frame = result.to_frame()
    assert len(frame) == LOOKS and frame["p_value_always_valid"].is_monotonic_decreasing
    assert (frame["cs_low"] <= frame["abs_lift"]).all() and (frame["abs_lift"] <= frame["cs_high"]).all()
    tuned = sequential_test(data, metric="conversion", planned_n=5000).to_frame()
    assert not np.allclose(tuned["cs_low"], frame["cs_low"])


@pytest.mark.slow
def test_sequential_test_power_and_peeking_error_on_unit_data():
    rng = np.random.default_rng(8)
    reps = 500
    detected = sum(bool(sequential_test(simulated_units(rng, LIFT), metric="conversion")
                        .to_frame()["significant"].any()) for _ in range(reps))
    false = sum(bool(sequential_test(simulated_units(rng, 0.0), metric="conversion")
                     .to_frame()["significant"].any()) for _ in range(reps))
    assert detected / reps >= 0.15 - 2 * np.sqrt(0.15 * 0.85 / reps)
    assert false / reps <= 0.05
