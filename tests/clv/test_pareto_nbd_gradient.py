"""The Pareto/NBD objective's analytic gradient (chain rule through the likelihood, tail integrals
differentiated under their quadrature) against central differences of the likelihood itself, and
what it buys: a fit towards the homogeneous-dropout bound costs no more than an interior fit."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from clv_simulate import simulate_common_dropout, simulate_pareto_nbd

import segkit.clv._pareto_nbd as pnbd_module
from segkit.clv import ParetoNBD
from segkit.clv._optimize import finite_difference_gradient
from segkit.clv._pareto_nbd import _objective
from segkit.clv._pareto_nbd_tail import log_tail, log_tail_gradient
from segkit.clv._validation import compress

X = np.array([0.0, 1.0, 2.0, 7.0, 15.0, 40.0])
TX = np.array([0.0, 3.5, 40.0, 150.0, 200.0, 300.0])

#: (r, alpha, mu = s/beta, kappa = 1/s): series (s <= 10) and quadrature (s > 10) regions, the
#: homogeneous-dropout limit kappa = 0 and the fit's bound 1e-8, r + x < 1, beta < alpha.
POINTS = [
    (2.9, 290.0, 0.0014, 0.0),
    (2.9, 290.0, 0.0014, 1e-8),
    (0.3, 2.0, 2e-4, 0.0),
    (0.55, 10.6, 0.05, 0.09),
    (1.5, 100.0, 1.0, 0.09),
    (0.8, 70.0, 0.01, 0.5),
    (0.8, 70.0, 0.01, 3.0),
    (8.0, 0.05, 0.3, 1e-4),
]


@pytest.mark.parametrize(("r", "alpha", "mu", "kappa"), POINTS)
def test_tail_gradient_matches_central_differences(r, alpha, mu, kappa):
    value, grad = log_tail_gradient(r, alpha, mu, kappa, X, TX)
    np.testing.assert_allclose(value, log_tail(r, alpha, mu, kappa, X, TX), rtol=0, atol=1e-12)
    base = np.log([r, alpha, mu, kappa if kappa > 0 else 1.0])
    for k in range(4 if kappa > 0 else 3):  # at kappa = 0 exactly there is no log kappa to move
        def at(shift: float, k: int = k) -> np.ndarray:
            p = np.exp(base + shift * np.eye(4)[k])
            return log_tail(p[0], p[1], p[2], p[3] if kappa > 0 else 0.0, X, TX)

        numeric = (at(1e-5) - at(-1e-5)) / 2e-5
        np.testing.assert_allclose(grad[:, k], numeric, rtol=0, atol=2e-8)


def _sample(n: int, seed: int, common: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ages = np.floor(rng.uniform(1, 276, n))
    if common:
        x, tx, age = simulate_common_dropout(n, 2.9, 290.0, 0.0014, ages, rng)
    else:
        x, tx, age = simulate_pareto_nbd(n, 0.8, 60.0, 0.7, 120.0, ages, rng)
    return x, np.where(x > 0, np.clip(np.round(tx), 1, age), 0.0), age


@pytest.mark.parametrize("kappa", [1e-8, 1e-3, 0.05, 0.4, 1.4, 6.0])
def test_objective_gradient_matches_central_differences_of_the_likelihood(kappa):
    x, tx, age = _sample(2000, 3, common=False)
    data = compress(x, tx, age, weights=np.ones(len(x)))
    objective = _objective(*data.columns, data.weights / data.weights.sum())
    numeric = finite_difference_gradient(objective.value).precise
    for coords in (np.log([0.8, 60.0, 0.7 / 120.0, kappa]), np.log([2.0, 200.0, 0.002, kappa])):
        value, grad = objective(coords)
        reference_value, reference = numeric(coords)
        assert value == reference_value
        np.testing.assert_allclose(grad, reference, rtol=1e-6, atol=1e-8)  # the differences: ~5e-9


def _count_evaluations(x, tx, age) -> tuple[int, ParetoNBD]:
    calls = []
    real, real_gradient = pnbd_module.log_tail, pnbd_module.log_tail_gradient
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as patch:
        warnings.simplefilter("ignore")
        patch.setattr(pnbd_module, "log_tail", lambda *a: calls.append(1) or real(*a))
        patch.setattr(pnbd_module, "log_tail_gradient", lambda *a: calls.append(1) or real_gradient(*a))
        model = ParetoNBD().fit(x, tx, age, time_unit="D")
    return len(calls), model


def test_a_fit_on_the_ridge_costs_about_what_an_interior_fit_costs():
    """Towards s, beta -> inf the fit runs twice (to where it stops, then from the bound); with
    analytic gradients the two together need about as many likelihood evaluations as one interior
    fit did (measured: 91 and 80; with finite-difference gradients the ridge took about 450)."""
    ridge, ridge_model = _count_evaluations(*_sample(3000, 1, common=True))
    interior, interior_model = _count_evaluations(*_sample(3000, 2, common=False))
    assert ridge_model.parameters_at_bound_ == ("s", "beta")
    assert interior_model.parameters_at_bound_ == () and 0.2 < interior_model.params_["s"] < 5
    assert ridge < 2 * interior, (ridge, interior)


@pytest.mark.slow
def test_ridge_and_interior_fits_of_215k_customers_take_comparable_cpu_time():
    """The 10M-event synthetic log has 215k buyers; the same number of customers on the ridge and
    inside: CPU seconds (not wall: the machine is shared) within a factor 2, both under 5 s."""
    times = {}
    for common in (True, False):
        x, tx, age = _sample(215_000, 1, common)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.process_time()
            ParetoNBD().fit(x, tx, age)
            times[common] = time.process_time() - start
    assert times[True] < 2 * times[False] and max(times.values()) < 5, times
