"""CUPED: unbiased, narrower, and equal to the regression-adjusted estimate it approximates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from segkit.errors import ValidationError
from segkit.stats import analyze, cuped_adjust
from segkit.stats._continuous import compare_means


def experiment(rng, n=4000, lift=2.0):
    pre = rng.gamma(2.0, 10.0, n)
    arm = rng.choice(["control", "b"], n)
    spend = 0.8 * pre + rng.normal(0, 8, n) + np.where(arm == "b", lift, 0.0)
    return pd.DataFrame({"arm": arm, "spend": spend, "pre_spend": pre})


def test_theta_is_the_pooled_regression_slope():
    df = experiment(np.random.default_rng(14))
    adjusted, theta = cuped_adjust(df, "spend", "pre_spend")
    slope = np.polyfit(df.pre_spend, df.spend, 1)[0]
    assert theta == pytest.approx(slope, rel=1e-9)
    assert adjusted.mean() == pytest.approx(df.spend.mean(), rel=1e-12)


def test_lift_is_close_to_ancova_and_the_interval_shrinks():
    df = experiment(np.random.default_rng(15))
    frame = analyze(df, metrics=[{"name": "spend", "covariate": "pre_spend"},
                                 {"name": "raw", "column": "spend"}]).to_frame().set_index("metric")
    ancova = smf.ols("spend ~ C(arm, Treatment('control')) + pre_spend", df).fit()
    coef = ancova.params.filter(like="arm").iloc[0]
    assert frame.loc["spend", "abs_lift"] == pytest.approx(coef, abs=0.05)
    width = frame.abs_lift_ci_high - frame.abs_lift_ci_low
    assert width["spend"] < 0.6 * width["raw"]


def test_coverage_of_the_planted_lift_vectorised():
    """4,000 simulated experiments: CUPED (pooled theta) + Welch covers the planted lift."""
    rng = np.random.default_rng(16)
    k, n, lift = 4000, 500, 2.0
    pre_c, pre_t = rng.gamma(2.0, 10.0, (k, n)), rng.gamma(2.0, 10.0, (k, n))
    y_c = 0.8 * pre_c + rng.normal(0, 8, (k, n))
    y_t = 0.8 * pre_t + rng.normal(0, 8, (k, n)) + lift
    x, y = np.hstack([pre_c, pre_t]), np.hstack([y_c, y_t])
    xc = x - x.mean(1, keepdims=True)
    theta = (xc * (y - y.mean(1, keepdims=True))).sum(1) / (xc**2).sum(1)
    adj = y - theta[:, None] * xc
    a_c, a_t = adj[:, :n], adj[:, n:]
    res = compare_means(a_c.mean(1), a_c.var(1, ddof=1), n, a_t.mean(1), a_t.var(1, ddof=1), n, 0.05)
    covered = (res["abs_lift_ci_low"] <= lift) & (lift <= res["abs_lift_ci_high"])
    assert 0.94 <= covered.mean() <= 0.96, covered.mean()
    one = pd.DataFrame({"spend": y[0], "pre_spend": x[0]})
    assert cuped_adjust(one, "spend", "pre_spend")[1] == pytest.approx(theta[0], rel=1e-9)


def test_constant_covariate_is_rejected():
    df = experiment(np.random.default_rng(17)).assign(pre_spend=1.0)
    with pytest.raises(ValidationError, match="constant"):
        cuped_adjust(df, "spend", "pre_spend")
