"""Sequential monitoring: daily peeking keeps the false-positive rate, sequences cover."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.stats import sequential_test
from segkit.stats._sequential import always_valid


def simulate_days(rng, k, days, daily, p_c, p_t):
    """Cumulative daily counts for k simulated experiments (vectorised): shape (k, days)."""
    c = rng.binomial(daily, p_c, (k, days)).cumsum(1)
    t = rng.binomial(daily, p_t, (k, days)).cumsum(1)
    n = daily * np.arange(1, days + 1)
    m_c, m_t = c / n, t / n
    variance = (m_c * (1 - m_c) + m_t * (1 - m_t)) / n
    tau2 = (0.1 * (m_c + m_t) / 2) ** 2
    return m_t - m_c, variance, tau2


def test_daily_peeking_keeps_the_false_positive_rate():
    rng = np.random.default_rng(10)
    k, days = 4000, 28
    diff, variance, tau2 = simulate_days(rng, k, days, 500, 0.1, 0.1)
    seq = always_valid(diff, variance, tau2, 0.05)
    fpr = np.mean((seq["p_value_always_valid"] < 0.05).any(axis=1))
    assert fpr <= 0.05, fpr
    naive = np.mean((np.abs(diff) / np.sqrt(variance) > 1.959964).any(axis=1))
    assert naive > 0.15  # what the fixed-horizon test does under the same peeking
    outside = (seq["cs_low"] > 0) | (seq["cs_high"] < 0)
    assert np.mean(outside.any(axis=1)) <= 0.05


def test_detects_a_real_lift_and_sequence_covers_it():
    rng = np.random.default_rng(11)
    diff, variance, tau2 = simulate_days(rng, 2000, 28, 2000, 0.1, 0.11)
    seq = always_valid(diff, variance, tau2, 0.05)
    assert np.mean(seq["p_value_always_valid"][:, -1] < 0.05) > 0.7
    covered = (seq["cs_low"] <= 0.01) & (0.01 <= seq["cs_high"])
    assert np.mean(covered.all(axis=1)) >= 0.95


def test_public_function_end_to_end():
    rng = np.random.default_rng(12)
    n = 30_000
    dates = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 14, n), unit="D")
    arm = rng.choice(["control", "b"], n)
    click = (rng.random(n) < np.where(arm == "b", 0.13, 0.10)).astype(int)
    df = pd.DataFrame({"date": dates, "arm": arm, "click": click})
    result = sequential_test(df, metric="click")
    frame = result.to_frame()
    assert len(frame) == 14 and frame["n_treatment"].is_monotonic_increasing
    last = frame.iloc[-1]
    b = df[df.arm == "b"]
    assert last.treatment_mean == pytest.approx(b.click.mean())
    assert last.cs_low <= last.ci_low and last.ci_high <= last.cs_high  # wider than fixed-horizon
    assert frame["p_value_always_valid"].is_monotonic_decreasing and last.significant
    assert "significant since" in result.summary() and "<table" in result._repr_html_()
    with pytest.raises(ValidationError, match="missing column"):
        sequential_test(df, metric="click", date="day")


@pytest.mark.slow
def test_false_positive_rate_with_hourly_peeking_and_small_arms():
    rng = np.random.default_rng(13)
    diff, variance, tau2 = simulate_days(rng, 20_000, 24 * 14, 50, 0.05, 0.05)
    seq = always_valid(diff, variance, tau2, 0.05)
    assert np.mean((seq["p_value_always_valid"] < 0.05).any(axis=1)) <= 0.05


def test_continuous_metric_uses_welch_style_variance():
    rng = np.random.default_rng(23)
    n = 6000
    df = pd.DataFrame({"date": rng.integers(1, 6, n), "arm": rng.choice(["control", "b"], n),
                       "revenue": rng.gamma(1.0, 5.0, n)})
    frame = sequential_test(df, metric="revenue", mixture_sd=0.5).to_frame()
    last = frame.iloc[-1]
    c, t = df[df.arm == "control"].revenue, df[df.arm == "b"].revenue
    se = np.sqrt(c.var() / len(c) + t.var() / len(t))
    assert last.abs_lift == pytest.approx(t.mean() - c.mean(), rel=1e-9)
    assert last.ci_high - last.abs_lift == pytest.approx(1.959963984540054 * se, rel=1e-9)
    v, tau2 = se**2, 0.25
    half = np.sqrt(v * (v + tau2) / tau2 * (2 * np.log(20) + np.log((v + tau2) / v)))
    assert last.cs_high <= last.abs_lift + half + 1e-12
