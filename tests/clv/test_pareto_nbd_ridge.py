"""Pareto/NBD towards homogeneous dropout (s, beta -> inf, s/beta = mu): likelihood finite and
continuous into the limit, checked against independent references, and fits that end on the
bound report it instead of failing."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import expn, gamma, gammaincc, gammaln

import segkit.clv._pareto_nbd as pnbd_module
from segkit.clv import ParetoNBD
from segkit.clv._optimize import LOG_BOUND, finite_difference_gradient
from segkit.clv._pareto_nbd import (
    KAPPA,
    log_likelihood_rows,
    log_terms_dropout,
    minimize_with_homogeneous_bound,
)
from segkit.clv._pareto_nbd_tail import SERIES_MAX_S, log_tail, log_tail_quadrature, log_tail_series
from segkit.errors import DataSufficiencyWarning

X = np.array([0.0, 1.0, 2.0, 7.0, 15.0])
TX = np.array([0.0, 3.5, 40.0, 150.0, 200.0])
T = np.array([60.0, 120.0, 275.0, 275.0, 210.0])


def _adaptive_log_tail(r, alpha, mu, kappa, x, t):
    """log int_t^inf (alpha+u)^-(r+x) f(u) du by scipy quad, f the Lomax (kappa = 0: exponential)
    density, split into pieces so quad resolves every scale."""
    if kappa == 0:
        def log_f(u):
            return np.log(mu) - mu * u
    else:
        def log_f(u):
            return np.log(mu) - (1 / kappa + 1) * np.log1p(kappa * mu * u)
    edges = [t, t + 1e-2, t + 1, t + 10, t + 100, t + 1e3, t + 1e4, t + 1e5, t + 1e7, np.inf]
    scale = (r + x) * np.log(alpha + t) - log_f(t)  # integrand / its value at t, so nothing underflows
    pieces = [
        integrate.quad(lambda u: np.exp(log_f(u) - (r + x) * np.log(alpha + u) + scale), lo, hi, epsabs=0, epsrel=1e-13, limit=500)[0]
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    return np.log(sum(pieces)) - scale


@pytest.mark.parametrize(
    ("r", "alpha", "mu", "kappa"),
    [
        (2.9, 290.0, 0.0014, 0.0),  # the demo cohort's limit
        (2.9, 290.0, 0.0014, 1e-8),  # ... and the fit's bound
        (0.3, 2.0, 2e-4, 0.0),  # r + x < 1: the integrand peaks inside the range, in y
        (0.55, 10.6, 0.05, 0.09),  # s = 11, just above the series range
        (1.5, 100.0, 1.0, 0.09),  # beta = 11 < alpha: the other change of variable
        (8.0, 0.05, 0.3, 1e-4),
    ],
)
def test_tail_quadrature_matches_adaptive_quadrature(r, alpha, mu, kappa):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        want = [_adaptive_log_tail(r, alpha, mu, kappa, x, t) for x, t in zip(X, TX, strict=True)]
    np.testing.assert_allclose(log_tail_quadrature(r, alpha, mu, kappa, X, TX), want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("s", [5.0, SERIES_MAX_S, 20.0])
def test_series_and_quadrature_agree_where_they_meet(s):
    """The likelihood switches from the 2F1 series to quadrature at s = SERIES_MAX_S; both are
    exact there (and up to s = 20, where scipy's hyp2f1 is still accurate)."""
    rng = np.random.default_rng(int(s))
    for _ in range(20):
        r, alpha, mu = np.exp(rng.uniform(np.log([0.05, 0.1, 1e-4]), np.log([5.0, 1e3, 0.5])))
        x, t = rng.integers(0, 30, 40).astype(float), rng.uniform(0, 300, 40)
        series = log_tail_series(r, alpha, mu, 1 / s, x, t)
        np.testing.assert_allclose(log_tail_quadrature(r, alpha, mu, 1 / s, x, t), series, rtol=0, atol=1e-11)


def test_quadrature_stands_in_where_the_series_is_not_finite():
    """Below s = 10 the series is used, except where scipy's hyp2f1 is not finite (here a value
    near exp(-2477): alpha ~ 1e6 and x = 176)."""
    r, alpha, s, beta = 0.153, 1.26e6, 2.89, 860.0
    x, t = np.array([176.0, 2.0]), np.array([1516.8, 10.0])
    series = log_tail_series(r, alpha, s / beta, 1 / s, x, t)
    assert not np.isfinite(series[0]) and np.isfinite(series[1])
    got = log_tail(r, alpha, s / beta, 1 / s, x, t)
    assert got[1] == series[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        assert got[0] == pytest.approx(_adaptive_log_tail(r, alpha, s / beta, 1 / s, x[0], t[0]), abs=1e-9)


def _exponential_dropout_loglik(r, alpha, mu, x, tx, T):
    """Closed form with a common exponential dropout rate mu (no quadrature):
    A(t) = int_t^inf (alpha+u)^-a mu e^(-mu u) du = mu e^(mu alpha) (alpha+t)^(1-a) E_a(mu (alpha+t))
    for whole a = r + x (exponential integral), and mu^r e^(mu alpha) Gamma(1-r, mu(alpha+t)) for
    x = 0, r < 1 (incomplete gamma)."""
    a = r + x

    def tail(t):
        if float(a).is_integer():
            return mu * np.exp(mu * alpha) * (alpha + t) ** (1 - a) * expn(int(a), mu * (alpha + t))
        assert x == 0 and r < 1
        return mu**r * np.exp(mu * alpha) * gamma(1 - r) * gammaincc(1 - r, mu * (alpha + t))

    alive = (alpha + T) ** -a * np.exp(-mu * T)
    return gammaln(a) - gammaln(r) + r * np.log(alpha) + np.log(alive + tail(tx) - tail(T))


@pytest.mark.parametrize(("r", "alpha", "mu"), [(1.0, 30.0, 0.01), (2.0, 290.0, 0.0014), (3.0, 5.0, 0.2), (0.4, 50.0, 0.003)])
def test_homogeneous_limit_matches_the_closed_form(r, alpha, mu):
    rows = [(x, tx, t) for x, tx, t in zip(X, TX, T, strict=True) if float(r + x).is_integer() or x == 0]
    common, alive, dead = log_terms_dropout(r, alpha, mu, 0.0, *map(np.array, zip(*rows, strict=True)))
    want = [_exponential_dropout_loglik(r, alpha, mu, *row) for row in rows]
    np.testing.assert_allclose(common + np.logaddexp(alive, dead), want, rtol=1e-11)


def test_likelihood_is_continuous_into_the_homogeneous_limit():
    """At s = 12 and 20 (quadrature) the likelihood equals the exact 2F1 form; from there it moves
    towards the kappa = 0 limit smoothly, the gap shrinking like 1/s."""
    r, alpha, mu = 2.9, 290.0, 0.0014
    common, alive, dead = log_terms_dropout(r, alpha, mu, 0.0, X, TX, T)
    limit = common + np.logaddexp(alive, dead)
    for s in (12.0, 20.0):
        params = np.array([r, alpha, s, s / mu])
        series_dead = np.log(-np.expm1(log_tail_series(r, alpha, mu, 1 / s, X, T) - log_tail_series(r, alpha, mu, 1 / s, X, TX)))
        series_dead += log_tail_series(r, alpha, mu, 1 / s, X, TX)
        exact = common + np.logaddexp(-(r + X) * np.log(alpha + T) - s * np.log1p(T * mu / s), np.where(TX < T, series_dead, -np.inf))
        np.testing.assert_allclose(log_likelihood_rows(params, X, TX, T), exact, rtol=0, atol=1e-10)
    gaps = [np.max(np.abs(log_likelihood_rows(np.array([r, alpha, s, s / mu]), X, TX, T) - limit)) for s in (1e2, 1e4, 1e6, 1e8)]
    assert gaps[0] > 1e-4 and gaps[-1] < 1e-9
    np.testing.assert_allclose(np.array(gaps[:-1]) / np.array(gaps[1:]), 100.0, rtol=0.05)


def _common_dropout_sample(n: int = 3000, seed: int = 1):
    """Daily data like the demo's: planted r = 2.9, alpha = 290, one dropout rate mu = 0.0014 per
    day for everyone; ages of 1 to 275 days, purchase days rounded to whole days."""
    from clv_simulate import simulate_common_dropout

    rng = np.random.default_rng(seed)
    x, tx, age = simulate_common_dropout(n, 2.9, 290.0, 0.0014, np.floor(rng.uniform(1, 276, n)), rng)
    return x, np.where(x > 0, np.clip(np.round(tx), 1, age), 0.0), age


@pytest.fixture(scope="module")
def ridge_fit():
    """3,000 customers with one common dropout rate. Before the fit worked in (mu, 1/s) this
    sample failed with ConvergenceError after about two minutes (the demo cohort's failure)."""
    x, tx, age = _common_dropout_sample()
    calls = []
    real, real_gradient = pnbd_module.log_tail, pnbd_module.log_tail_gradient
    with warnings.catch_warnings(record=True) as caught, pytest.MonkeyPatch.context() as patch:
        warnings.simplefilter("always")
        patch.setattr(pnbd_module, "log_tail", lambda *a: calls.append(1) or real(*a))
        patch.setattr(pnbd_module, "log_tail_gradient", lambda *a: calls.append(1) or real_gradient(*a))
        model = ParetoNBD().fit(x, tx, age, time_unit="D")
    return model, caught, len(calls), (x, tx, age)


def test_fit_on_the_ridge_stops_on_the_bound_and_says_so(ridge_fit):
    model, caught, _, _ = ridge_fit
    assert model.converged_ and model.parameters_at_bound_ == ("s", "beta")
    assert model.params_["s"] == pytest.approx(np.exp(LOG_BOUND), rel=1e-6)
    assert model.standard_errors_[["s", "beta"]].isna().all()
    assert (model.standard_errors_[["r", "alpha"]] > 0).all()
    mu = model.params_["s"] / model.params_["beta"]
    (note,) = model.notes_
    assert "not identified" in note and f"mu = s/beta = {mu:.4g} per day" in note
    assert model.summary().attrs["notes"] == model.notes_
    messages = [str(w.message) for w in caught if issubclass(w.category, DataSufficiencyWarning)]
    assert any("mu = s/beta" in m for m in messages)
    assert not any("search bound" in m or "positive definite" in m for m in messages)
    assert model.fit_attempts_[-1].startswith("kept") and "1/s = 1e-08" in model.fit_attempts_[-1]
    draws = model.sample_params(4000, random_state=0)  # s held at the limit, mu and r, alpha drawn
    assert np.all(draws[:, 2] == model.params_["s"])
    mu_draws = draws[:, 2] / draws[:, 3]
    coords_cov = model._coordinate_covariance
    assert np.std(np.log(mu_draws)) == pytest.approx(np.sqrt(coords_cov[2, 2]), rel=0.05)
    assert np.median(mu_draws) == pytest.approx(mu, rel=0.01)
    assert np.std(np.log(draws[:, 0])) == pytest.approx(model.covariance_log_.iloc[0, 0] ** 0.5, rel=0.05)


def test_fit_on_the_ridge_is_the_limit_and_recovers_the_planted_values(ridge_fit):
    model, _, _, (x, tx, age) = ridge_fit
    r, alpha, s, beta = model.params_.to_numpy()
    common, alive, dead = log_terms_dropout(r, alpha, s / beta, 0.0, x, tx, age)
    assert model.log_likelihood_ == pytest.approx(float(np.sum(common + np.logaddexp(alive, dead))), abs=1e-5)
    for s_inside in (1e2, 1e4):  # moving off the bound along the ridge lowers the likelihood
        assert log_likelihood_rows(np.array([r, alpha, s_inside, s_inside * beta / s]), x, tx, age).sum() < model.log_likelihood_
    truth = np.log([2.9, 290.0, 0.0014])
    estimate = np.log([r, alpha, s / beta])
    se = np.sqrt(np.diag(model._coordinate_covariance)[:KAPPA])
    assert np.all(np.abs(estimate - truth) / se < 3.5), (estimate - truth) / se


def test_fit_on_the_ridge_does_not_crawl(ridge_fit):
    """The optimiser stops once it is heading for the bound (the gradient along the ridge shrinks
    like 1/s) instead of crawling along it, and the gradient is analytic (one evaluation, not
    five): about a hundred likelihood evaluations (about 450 with finite-difference gradients)."""
    _, _, evaluations, _ = ridge_fit
    assert evaluations < 150


def test_predictions_on_the_bound_match_common_exponential_dropout(ridge_fit):
    """At s = 1e8 predictions equal the exponential-dropout formulas (to ~1/s):
    E[X(t)] = r/alpha (1 - e^(-mu t))/mu; E[Y(t) | x, t_x, T] = (r+x)/(alpha+T) (1 - e^(-mu t))/mu P(alive);
    P(alive at T + t) = P(alive at T) e^(-mu t), P(alive at T) from the closed form."""
    model = ParetoNBD()
    model.params_ = pd.Series([2.0, 290.0, 1e8, 1e8 / 0.0014], index=list(model.param_names))
    r, alpha, mu, t = 2.0, 290.0, 0.0014, 90.0
    x, tx, age = X[:4], TX[:4], T[:4]
    share = (1 - np.exp(-mu * t)) / mu
    assert model.expected_purchases(t) == pytest.approx(r / alpha * share, rel=1e-6)
    common_alive = np.array([gammaln(r + k) - gammaln(r) + r * np.log(alpha) - (r + k) * np.log(alpha + a) - mu * a
                             for k, a in zip(x, age, strict=True)])
    p_alive = np.exp(common_alive - [_exponential_dropout_loglik(r, alpha, mu, *row) for row in zip(x, tx, age, strict=True)])
    np.testing.assert_allclose(model.probability_alive(x, tx, age), p_alive, rtol=1e-6)
    np.testing.assert_allclose(model.probability_alive(x, tx, age, future_t=t), p_alive * np.exp(-mu * t), rtol=1e-6)
    np.testing.assert_allclose(model.conditional_expected_purchases(t, x, tx, age), (r + x) / (alpha + age) * share * p_alive, rtol=1e-6)
    pmf = model.probability_of_purchases(np.arange(200), 365.0)
    assert np.all(np.isfinite(pmf)) and pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (np.arange(200) * pmf).sum() == pytest.approx(model.expected_purchases(365.0), rel=1e-6)


def _quadratic_in(coords_target: np.ndarray, kappa_term):
    """A mean -log-likelihood stand-in: quadratic in log r, log alpha, log mu plus a term in log kappa."""

    def value(coords: np.ndarray) -> float:
        return float(np.sum((coords[:KAPPA] - coords_target) ** 2) + kappa_term(coords[KAPPA]))

    return finite_difference_gradient(value)


@pytest.mark.parametrize(
    ("kappa_term", "expected_kappa"),
    [
        (lambda psi: np.exp(psi), 1e-8),  # rises with kappa: the bound is the maximum
        (lambda psi: 0.1 * (psi - np.log(0.02)) ** 2, 0.02),  # interior at s = 50: checked, kept
        (lambda psi: 0.1 * (psi - np.log(1e-4)) ** 2, 1e-4),  # beyond where the first run stops
        (lambda psi: 0.1 * (psi - np.log(2.0)) ** 2, 2.0),  # s = 0.5: no bound check needed
    ],
)
def test_the_bound_is_kept_only_when_it_is_the_maximum(kappa_term, expected_kappa):
    target = np.log([0.5, 10.0, 0.05])
    objective = _quadratic_in(target, kappa_term)
    optimum = minimize_with_homogeneous_bound(objective, np.log([1.0, 5.0, 0.1, 1.0]), max_iter=500)
    assert optimum.converged
    assert np.exp(optimum.log_params[KAPPA]) == pytest.approx(expected_kappa, rel=1e-3)
    np.testing.assert_allclose(optimum.log_params[:KAPPA], target, atol=1e-4)
    assert optimum.attempts[-1].startswith("kept") or expected_kappa > 0.1


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_demo_sized_common_dropout_fits_recover_mu(seed):
    """10,000 customers, daily data as in the demo: fits end on the bound or at an interior s
    (kappa's estimate is 0 about half the time when the truth is on the boundary), quickly, and
    recover r, alpha and mu = s/beta within sampling error either way."""
    import time

    x, tx, age = _common_dropout_sample(10_000, seed)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataSufficiencyWarning)
        model = ParetoNBD().fit(x, tx, age, time_unit="D")
    assert time.perf_counter() - started < 30 and model.converged_
    r, alpha, s, beta = model.params_.to_numpy()
    se = np.sqrt(np.diag(model._coordinate_covariance)[:KAPPA])  # log r, log alpha, log mu
    z = (np.log([r, alpha, s / beta]) - np.log([2.9, 290.0, 0.0014])) / se
    assert np.all(np.abs(z) < 3.5), z
