"""Delta-method ratio metrics: variance matches the linearisation, intervals cover."""

from __future__ import annotations

import numpy as np
import pytest

from segkit.stats._ratio import compare_ratios, ratio_estimate


def _opens_clicks(rng, n, ctr):
    opens = rng.poisson(1.5, n)
    clicks = rng.binomial(opens, ctr)
    return clicks, opens


def test_variance_equals_the_linearised_residual_variance():
    """Independent form: Var(R) = Var(x - R y) / (n mean(y)^2) (Deng et al. 2018, section 2)."""
    rng = np.random.default_rng(5)
    clicks, opens = _opens_clicks(rng, 5000, 0.2)
    ratio, variance = ratio_estimate(clicks, opens)
    r = clicks.sum() / opens.sum()
    residual = clicks - r * opens
    assert ratio == pytest.approx(r, rel=1e-12)
    assert variance == pytest.approx(residual.var(ddof=1) / (len(opens) * opens.mean() ** 2),
                                     rel=1e-9)


def test_interval_covers_the_true_click_to_open_lift():
    """4,000 simulated experiments at once (ratio_estimate works along the last axis)."""
    rng = np.random.default_rng(6)
    k, n, base, lift = 4000, 2000, 0.2, 0.02
    c = ratio_estimate(*_opens_clicks(rng, (k, n), base))
    t = ratio_estimate(*_opens_clicks(rng, (k, n), base + lift))
    res = compare_ratios(c[0], c[1], t[0], t[1], 0.05)
    covered = (res["abs_lift_ci_low"] <= lift) & (lift <= res["abs_lift_ci_high"])
    assert 0.94 <= covered.mean() <= 0.96, covered.mean()
    one = ratio_estimate(*_opens_clicks(np.random.default_rng(1), n, base))
    rows = ratio_estimate(*_opens_clicks(np.random.default_rng(1), (1, n), base))
    assert one == pytest.approx((rows[0][0], rows[1][0]), rel=1e-12)


def test_zero_denominator_gives_nan_not_an_error():
    assert np.isnan(ratio_estimate(np.zeros(5), np.zeros(5))[0])
