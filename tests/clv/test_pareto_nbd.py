"""Pareto/NBD: published values, lifetimes oracle, likelihood pinned against quadrature at edges."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln

from segkit.clv import ParetoNBD
from segkit.clv._pareto_nbd import log_likelihood_rows

HAS_LIFETIMES = importlib.util.find_spec("lifetimes") is not None


def _quadrature_loglik(params, x, tx, T):
    """Fader & Hardie (2005) integral form: alive term + s * int_{t_x}^T (a+u)^-(r+x) (b+u)^-(s+1) du,
    with beta^s folded in as (1 + u/b)^-s (no underflow for large s)."""
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    integral = integrate.quad(lambda u: (alpha + u) ** -(r + x) * np.exp(-(s + 1) * np.log1p(u / beta)), tx, T, epsabs=0, epsrel=1e-13, limit=200)[0]
    return common + np.log((alpha + T) ** -(r + x) * np.exp(-s * np.log1p(T / beta)) + s / beta * integral)


@pytest.mark.parametrize(
    "params",
    [
        (0.55, 10.58, 0.61, 11.67),  # alpha < beta (CDNOW)
        (0.55, 11.67, 0.61, 10.58),  # alpha > beta
        (0.8, 5.0, 1.3, 5.0),  # alpha == beta: z = 0
        (0.5, 1e-3, 0.7, 1e3),  # z near 1
        (2.0, 1e3, 0.2, 1e-2),
        (0.8, 5.0, 50.0, 5e3),  # s = 50: quadrature (scipy's hyp2f1 is off by ~1e-10 here)
    ],
)
@pytest.mark.parametrize(("x", "tx", "T"), [(0, 0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (60, 20.0, 38.0), (3, 38.0, 38.0)])
def test_log_likelihood_matches_quadrature(params, x, tx, T):
    got = log_likelihood_rows(np.array(params), np.array([float(x)]), np.array([tx]), np.array([T]))[0]
    assert got == pytest.approx(_quadrature_loglik(params, x, tx, T), abs=1e-9, rel=1e-10)


def test_matches_published_values(pnbd, published):
    ref = published["pareto_nbd_cdnow_2357"]
    for name, value in ref["params"].items():
        assert abs(pnbd.params_[name] - value) <= ref["rounding"]["params"] + 1e-12, name
    assert abs(pnbd.log_likelihood_ - ref["log_likelihood"]) <= ref["rounding"]["log_likelihood"]
    assert pnbd.converged_


def test_at_least_as_good_as_lifetimes(pnbd, oracle, cdnow_summary):
    ref = oracle["pareto_nbd"]
    assert pnbd.log_likelihood_ >= ref["log_likelihood"] - 1e-3
    for name, value in ref["params"].items():
        assert pnbd.params_[name] == pytest.approx(value, rel=1e-3)
    d = cdnow_summary.head(oracle["first_customers"])
    np.testing.assert_allclose(pnbd.conditional_expected_purchases(39, d["frequency"], d["recency"], d["T"]), ref["conditional_expected_39"], rtol=5e-4)
    np.testing.assert_allclose(pnbd.probability_alive(d["frequency"], d["recency"], d["T"]), ref["probability_alive"], rtol=5e-4)


@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes not installed (oracle JSON covers it)")
def test_lifetimes_likelihood_agrees_with_ours_at_its_estimate(pnbd, cdnow_summary):
    from lifetimes import ParetoNBDFitter

    d = cdnow_summary
    x, tx, T = d["frequency"].to_numpy(), d["recency"].to_numpy(), d["T"].to_numpy()
    theirs = ParetoNBDFitter._conditional_log_likelihood(pnbd.params_.to_numpy(), x, tx, T)
    np.testing.assert_allclose(log_likelihood_rows(pnbd.params_.to_numpy(), x.astype(float), tx, T), theirs, rtol=1e-8)


def test_pmf_sums_to_one_and_mean_matches(pnbd):
    n = np.arange(600)
    pmf = pnbd.probability_of_purchases(n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-5)
    assert (n * pmf).sum() == pytest.approx(pnbd.expected_purchases(39.0), rel=1e-3)


def test_future_probability_alive_decreases(pnbd):
    now = pnbd.probability_alive([2], [30.43], [38.86])[0]
    later = pnbd.probability_alive([2], [30.43], [38.86], future_t=52)[0]
    s, beta = pnbd.params_["s"], pnbd.params_["beta"]
    assert later == pytest.approx(now * ((beta + 38.86) / (beta + 38.86 + 52)) ** s, rel=1e-12)


def test_standard_errors_are_positive(pnbd):
    assert (pnbd.standard_errors_ > 0).all() and pnbd.covariance_log_.shape == (4, 4)


def test_recovers_planted_parameters():
    from clv_simulate import simulate_pareto_nbd

    truth = np.array([0.6, 10.0, 0.6, 12.0])
    rng = np.random.default_rng(11)
    x, tx, T = simulate_pareto_nbd(20_000, *truth, T=rng.uniform(26, 39, 20_000), rng=rng)
    model = ParetoNBD().fit(x, tx, T)
    z = (np.log(model.params_.to_numpy()) - np.log(truth)) / np.sqrt(np.diag(model.covariance_log_))
    assert np.all(np.abs(z) < 3.5), z


def test_likelihood_survives_scipy_hyp2f1_failures():
    """scipy's hyp2f1 returns inf for large s with z near 1 (found on a real fit's path towards
    homogeneous dropout); there, as everywhere above s = 10, the likelihood uses quadrature, and
    it matches the integral form evaluated by scipy's adaptive quadrature."""
    from scipy.special import hyp2f1

    ridge = np.exp([0.96072351, 5.56423041, 5.11805841 + 1e-6, 11.8186013])  # r, alpha, s, beta
    r, alpha, s, beta = ridge
    assert not np.isfinite(hyp2f1(1.0, s + 1.0, r + s + 2.0, (beta - alpha) / beta))  # x = 1, t = 0
    for x, tx, T in [(1, 0.5, 38.0), (0, 0.0, 20.0), (3, 20.0, 100.0), (10, 250.0, 300.0)]:
        got = log_likelihood_rows(ridge, np.array([float(x)]), np.array([tx]), np.array([T]))[0]
        assert np.isfinite(got)
        assert got == pytest.approx(_quadrature_loglik(ridge, x, tx, T), abs=1e-9)
