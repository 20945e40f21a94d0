"""Optimiser cascade: fallback is used and reported; failure raises with what was tried."""

from __future__ import annotations

import numpy as np
import pytest

import segkit.clv._optimize as opt
from segkit.clv import BetaGeo, ParetoNBD
from segkit.errors import ConvergenceError


@pytest.mark.parametrize("model_class", [BetaGeo, ParetoNBD])
def test_non_convergence_raises_listing_every_stage(cdnow_summary, model_class):
    d = cdnow_summary
    with pytest.raises(ConvergenceError, match="L-BFGS-B: 1 iterations.*Nelder-Mead.*trust-constr"):
        model_class(max_iter=1).fit(d["frequency"], d["recency"], d["T"])


def test_fallback_optimizer_is_used_and_reported(cdnow_summary, bgnbd, monkeypatch):
    real = opt._run_stage
    calls = []

    def first_stage_breaks(stage, *args):
        calls.append(stage)
        if len(calls) == 1:
            raise FloatingPointError("simulated overflow")
        return real(stage, *args)

    monkeypatch.setattr(opt, "_run_stage", first_stage_breaks)
    d = cdnow_summary
    model = BetaGeo().fit(d["frequency"], d["recency"], d["T"])
    assert model.optimizer_ == "Nelder-Mead+L-BFGS-B" and model.converged_
    assert model.fit_attempts_[0] == "L-BFGS-B: failed (simulated overflow)"
    np.testing.assert_allclose(model.params_, bgnbd.params_, rtol=1e-5)


def test_value_hessian_matches_analytic_on_a_quadratic():
    matrix = np.array([[2.0, 0.3], [0.3, 1.0]])

    def objective(theta):
        return 0.5 * theta @ matrix @ theta, matrix @ theta

    objective.value = lambda theta: 0.5 * theta @ matrix @ theta
    np.testing.assert_allclose(opt.hessian(objective, np.array([0.2, -0.1])), matrix, rtol=1e-6)
    del objective.value
    np.testing.assert_allclose(opt.hessian(objective, np.array([0.2, -0.1])), matrix, rtol=1e-9)


@pytest.mark.parametrize("shift", [0, 1])
def test_analytic_gradients_match_finite_differences(cdnow_summary, shift):
    from segkit.clv._beta_geo import _objective

    d = cdnow_summary.head(400)
    x, tx, T = (d[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    objective = _objective(x, tx, T, np.full(len(x), 1 / len(x)), shift)
    theta = np.log([0.3, 5.0, 0.9, 2.0])
    numeric = opt.finite_difference_gradient(lambda t: objective(t)[0]).precise(theta)[1]
    np.testing.assert_allclose(objective(theta)[1], numeric, rtol=1e-6, atol=1e-9)


def test_gamma_gamma_gradient_matches_finite_differences(cdnow_spend):
    from segkit.clv._gamma_gamma import _objective

    buyers = cdnow_spend[cdnow_spend["x"] > 0]
    objective = _objective(buyers["x"].to_numpy(float), buyers["zbar"].to_numpy(), np.full(len(buyers), 1 / len(buyers)))
    theta = np.log([5.0, 3.0, 12.0])
    numeric = opt.finite_difference_gradient(lambda t: objective(t)[0]).precise(theta)[1]
    np.testing.assert_allclose(objective(theta)[1], numeric, rtol=1e-6, atol=1e-9)
