"""Power functions against closed forms, statsmodels' NormalIndPower and simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import (
    NormalIndPower,
    TTestIndPower,
    tt_ind_solve_power,
    zt_ind_solve_power,
)

import segkit.stats as sk  # not `from ... import test_duration`: pytest would collect it
from segkit.errors import ValidationError
from segkit.stats._proportions import compare_proportions


def fleiss_n(p_c, p_t, alpha=0.05, power=0.8):
    """Closed form with pooled null and unpooled alternative variances (Fleiss et al. 2003)."""
    za, zb = stats.norm.isf(alpha / 2), stats.norm.isf(1 - power)
    p_bar = (p_c + p_t) / 2
    num = za * np.sqrt(2 * p_bar * (1 - p_bar)) + zb * np.sqrt(p_c * (1 - p_c) + p_t * (1 - p_t))
    return num**2 / (p_t - p_c) ** 2


@pytest.mark.parametrize(("baseline", "mde"), [(0.1, 0.01), (0.02, 0.004), (0.5, -0.05)])
def test_proportion_sample_size_matches_the_closed_form(baseline, mde):
    n = sk.sample_size(baseline, mde)
    assert n == int(np.ceil(fleiss_n(baseline, baseline + mde)))
    assert sk.achieved_power(n, baseline, mde) == pytest.approx(0.8, abs=2e-4)
    assert sk.minimum_detectable_effect(n, baseline) == pytest.approx(abs(mde), rel=2e-3)


def test_relative_mde_and_bonferroni_comparisons():
    assert sk.sample_size(0.1, 0.1, relative=True) == sk.sample_size(0.1, 0.01)
    assert sk.sample_size(0.1, 0.01, comparisons=2) == sk.sample_size(0.1, 0.01, alpha=0.025)
    assert sk.minimum_detectable_effect(14_751, 0.1, relative=True) == pytest.approx(0.1, rel=1e-3)


def test_continuous_matches_the_t_test_power():
    """Continuous metrics are analysed with Welch's t, so their power is the t-test's
    (statsmodels TTestIndPower, noncentral t), a little below the normal approximation's."""
    n = sk.sample_size(20.0, 1.5, kind="continuous", sd=30.0, power=0.9, ratio=2.0)
    ref = tt_ind_solve_power(effect_size=0.05, alpha=0.05, power=0.9, ratio=2.0)
    assert n == int(np.ceil(ref))
    assert n >= int(np.ceil(zt_ind_solve_power(effect_size=0.05, alpha=0.05, power=0.9, ratio=2.0)))
    power = sk.achieved_power(5000, 20.0, 1.5, kind="continuous", sd=30.0)
    assert power == pytest.approx(TTestIndPower().power(0.05, 5000, 0.05), abs=1e-12)
    mde = sk.minimum_detectable_effect(5000, 20.0, kind="continuous", sd=30.0)
    assert sk.achieved_power(5000, 20.0, mde, kind="continuous", sd=30.0) == pytest.approx(0.8)
    ref_d = NormalIndPower().solve_power(nobs1=5000, alpha=0.05, power=0.8)
    assert mde == pytest.approx(ref_d * 30.0, rel=1e-3)


def test_duration_plan():
    plan = sk.test_duration(0.1, 0.01, daily_units=5000)
    assert plan.n_per_arm == sk.sample_size(0.1, 0.01)
    assert plan.days == int(np.ceil(2 * plan.n_per_arm / 5000)) and plan.total_units == 2 * plan.n_per_arm
    three = sk.test_duration(0.1, 0.01, daily_units=5000, arms=3)
    assert three.n_per_arm == sk.sample_size(0.1, 0.01, comparisons=2)
    assert "day(s)" in plan.summary()


def test_simulated_power_is_the_promised_power():
    n = sk.sample_size(0.05, 0.01)
    rng = np.random.default_rng(9)
    k = 5000
    res = compare_proportions(rng.binomial(n, 0.05, k), n, rng.binomial(n, 0.06, k), n, 0.05)
    assert 0.78 <= np.mean(res["p_value"] < 0.05) <= 0.82


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"kind": "binary"}, "valid: proportion, continuous"), ({"alpha": 0}, "alpha"),
     ({"kind": "continuous"}, "need sd"), ({"alternative": "two"}, "valid: two-sided"),
     ({"power": 1.2}, "power must be")],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        sk.sample_size(0.1, 0.01, **kwargs)
    with pytest.raises(ValidationError, match="not a proportion"):
        sk.sample_size(0.95, 0.1)
