"""Dropout not identified (issue 18, item 4): r and alpha keep their standard errors.

On data without dropout the BG/NBD fit heads to a -> 0 (and Pareto/NBD's to s/beta -> 0): the
likelihood is flat along the dropout parameters and the full Hessian is singular. The standard
errors of r and alpha are then conditional on the dropout parameters held at their estimates; in
that limit both likelihoods are the NBD likelihood ``Gamma(r+x)/Gamma(r) alpha^r / (alpha+T)^(r+x)``
(no dropout), whose Hessian is known in closed form: the independent reference here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from clv_simulate import nbd_standard_errors, simulate_bgnbd

from segkit.clv import BetaGeo, ParetoNBD


@pytest.fixture(scope="module")
def no_dropout() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """3,000 customers who never drop out (p ~ beta(1e-9, 1)), ages 30-300 days, whole days."""
    rng = np.random.default_rng(1)
    ages = rng.uniform(30, 300, 3000).round()
    x, tx, T = simulate_bgnbd(3000, 0.7, 60.0, 1e-9, 1.0, ages, rng)
    return x, np.minimum(np.ceil(tx), T), T


@pytest.mark.parametrize(("model", "dropout"), [(BetaGeo, ["a", "b"]), (ParetoNBD, ["s", "beta"])])
def test_r_and_alpha_standard_errors_are_conditional_on_the_dropout_boundary(no_dropout, model, dropout):
    x, tx, T = no_dropout
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model().fit(x, tx, T, time_unit="D")
    messages = [str(w.message) for w in caught]
    assert not any("not positive definite" in m for m in messages), messages
    assert any("dropout is not identified" in m for m in messages)
    note = " ".join(fit.notes_)
    assert "dropout is not identified" in note and "conditional on" in note
    se = fit.standard_errors_
    assert se[dropout].isna().all()
    r, alpha = fit.params_["r"], fit.params_["alpha"]
    np.testing.assert_allclose(se[["r", "alpha"]], nbd_standard_errors(r, alpha, x, T), rtol=1e-3)
    intervals = fit.confidence_intervals_.loc[["r", "alpha"]]
    assert (intervals["lower"] < fit.params_[["r", "alpha"]]).all()
    draws = fit.sample_params(50, random_state=0)  # CLV intervals can be drawn
    assert np.isfinite(draws).all() and draws[:, 0].std() > 0
    np.testing.assert_allclose(draws[:, 2:], np.tile(fit.params_[dropout].to_numpy(), (50, 1)), rtol=1e-9)
    assert fit.summary().attrs["notes"] == fit.notes_


def test_identified_dropout_keeps_the_full_covariance(cdnow_summary):
    d = cdnow_summary
    fit = BetaGeo().fit(d["frequency"], d["recency"], d["T"], time_unit="W")
    assert fit.standard_errors_.notna().all() and fit.notes_ == ()
