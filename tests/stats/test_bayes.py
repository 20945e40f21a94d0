"""Beta-Binomial chance to beat control and expected loss against exact sums and Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import betaln

from segkit.errors import ValidationError
from segkit.stats import beta_binomial


def evan_miller(a_c, b_c, a_t, b_t):
    """Exact P(p_T > p_C) for integer a_t (Evan Miller, "Formulas for Bayesian A/B testing", 2014)."""
    return sum(
        math.exp(betaln(a_c + i, b_c + b_t) - math.log(b_t + i) - betaln(1 + i, b_t)
                 - betaln(a_c, b_c))
        for i in range(a_t)
    )


@pytest.mark.parametrize("counts", [(10, 100, 15, 100), (0, 50, 2, 50), (300, 10_000, 349, 10_000),
                                    (7, 7, 3, 9)])
def test_chance_to_beat_control_matches_the_exact_sum(counts):
    c, n_c, t, n_t = counts
    got = beta_binomial(c, n_c, t, n_t)
    exact = evan_miller(1 + c, 1 + n_c - c, 1 + t, 1 + n_t - t)
    assert got.prob_beat_control == pytest.approx(exact, abs=1e-9)
    assert got.posterior_treatment == (1.0 + t, 1.0 + n_t - t)


def test_expected_loss_matches_monte_carlo():
    got = beta_binomial(120, 2000, 150, 2000)
    rng = np.random.default_rng(8)
    pc, pt = rng.beta(121, 1881, 2_000_000), rng.beta(151, 1851, 2_000_000)
    assert got.expected_loss == pytest.approx(np.maximum(pc - pt, 0).mean(), abs=2e-5)
    assert got.expected_loss_control == pytest.approx(np.maximum(pt - pc, 0).mean(), abs=2e-5)
    assert "Chance the treatment rate beats control" in got.summary()
    assert "<table" in got._repr_html_() and len(got.to_frame()) == 1


def test_rejects_rates_outside_zero_one():
    with pytest.raises(ValidationError, match="proportion in \\[0, 1\\]"):
        beta_binomial(12, 10, 3, 10)
