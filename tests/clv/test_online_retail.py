"""CLV models on the real Online Retail log (issue 18): lifetimes agreement, r and alpha standard
errors when dropout is not identified, and the holdout check that names the season it missed."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pytest
from clv_simulate import nbd_standard_errors

from segkit.clv import BetaGeo, GammaGamma, calibration_vs_holdout
from segkit.features import calibration_holdout, rfm

HAS_LIFETIMES = importlib.util.find_spec("lifetimes") is not None
END = pd.Timestamp("2011-12-09 23:59:59", tz="UTC")
CUTOFF = pd.Timestamp("2011-09-10", tz="UTC")  # the ltv_churn report's 90-day holdout


@pytest.fixture(scope="module")
def whole_log(online_retail_purchases) -> pd.DataFrame:
    return rfm({"events": online_retail_purchases}, END)


@pytest.fixture(scope="module")
def split(online_retail_purchases):
    return calibration_holdout({"events": online_retail_purchases}, CUTOFF, END, windows=(30,))


@pytest.fixture(scope="module")
def calibration(split) -> pd.DataFrame:
    return split.features[split.features["frequency"].notna()]


@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes not installed")
def test_bgnbd_and_gamma_gamma_equal_lifetimes(whole_log, calibration):
    """Same rows, both libraries: log-likelihoods (lifetimes' own formula) equal to 1e-6."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    x, tx, T, m = (whole_log[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    ours = BetaGeo().fit(x, tx, T, time_unit="D")
    theirs = BetaGeoFitter().fit(x.astype(int), tx, T)
    own = lambda params: -BetaGeoFitter._negative_log_likelihood(  # noqa: E731
        np.log(params), x, tx, T, np.ones(len(x)), 0.0) * len(x)
    assert ours.log_likelihood_ == pytest.approx(own(ours.params_.to_numpy()), abs=1e-6)
    assert ours.log_likelihood_ == pytest.approx(own(theirs.params_[["r", "alpha", "a", "b"]].to_numpy()), abs=1e-6)
    np.testing.assert_allclose(ours.params_, theirs.params_[["r", "alpha", "a", "b"]], rtol=1e-4)
    for table in (whole_log, calibration):
        buyers = table[(table["frequency"] > 0) & (table["monetary_value"] > 0)]
        f, v = buyers["frequency"].to_numpy(), buyers["monetary_value"].to_numpy()
        spend = GammaGamma().fit(f, v)
        reference = GammaGammaFitter().fit(f.astype(int), v)
        at_reference = -GammaGammaFitter._negative_log_likelihood(
            np.log(reference.params_[["p", "q", "v"]].to_numpy()), f, v, np.ones(len(f)), 0.0) * len(f)
        assert spend.log_likelihood_ == pytest.approx(at_reference, abs=1e-6)
        np.testing.assert_allclose(spend.params_, reference.params_[["p", "q", "v"]], rtol=1e-4)


def test_calibration_fit_keeps_r_and_alpha_standard_errors(calibration):
    """At the report's cutoff BG/NBD heads to a -> 0 (no dropout; lifetimes does not converge
    there): r and alpha get standard errors conditional on it (closed-form NBD Hessian)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BetaGeo().fit_features(calibration)
    assert not any("not positive definite" in str(w.message) for w in caught)
    assert model.params_["a"] < 1e-3 and "dropout is not identified" in " ".join(model.notes_)
    x, T = calibration["frequency"].to_numpy(), calibration["T"].to_numpy()
    expected = nbd_standard_errors(model.params_["r"], model.params_["alpha"], x, T)
    np.testing.assert_allclose(model.standard_errors_[["r", "alpha"]], expected, rtol=1e-2)


def test_holdout_check_names_the_season_and_the_rate_change(split, calibration):
    """The holdout covers the October-November peak: forecast -26% with no warning before."""
    model = BetaGeo().fit_features(calibration)
    actual = split.outcomes["holdout_purchases"].reindex(calibration.index).fillna(0.0)
    result = calibration_vs_holdout(model, calibration["frequency"], calibration["recency"],
                                    calibration["T"], actual, split.duration_holdout, cutoff=CUTOFF)
    assert result.relative_error == pytest.approx(-0.258, abs=0.01)
    assert result.unseen_months == ("October", "November")
    assert result.rate_change == pytest.approx(0.22, abs=0.02)
    assert "October and November" in result.period_note and "+22%" in result.period_note
    assert result.period_note in result.summary()


def test_pareto_nbd_heading_for_no_dropout_finishes_on_the_nbd_limit(calibration, monkeypatch):
    """Issue 18 item 6: on this calibration Pareto/NBD heads for s/beta -> 0, where each tail
    integral is at its slowest (4.1-4.6 s against lifetimes' 1.7-3.0 s). The run now stops there
    and finishes on the closed-form NBD limit: under 120 likelihood evaluations (was about 290)."""
    from segkit.clv import ParetoNBD, _pareto_nbd

    calls = []
    original = _pareto_nbd._Pairs.log_tails
    monkeypatch.setattr(_pareto_nbd._Pairs, "log_tails", lambda self, *a: calls.append(1) or original(self, *a))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        model = ParetoNBD().fit_features(calibration)
        reference = BetaGeo().fit_features(calibration)
    assert len(calls) < 120, len(calls)
    assert model.optimizer_ == "NBD limit" and model.converged_
    assert "no dropout" in " ".join(model.notes_)
    # the NBD limit of both models: the same r, alpha and standard errors as BG/NBD at a -> 0
    np.testing.assert_allclose(model.params_[["r", "alpha"]], reference.params_[["r", "alpha"]], rtol=1e-3)
    np.testing.assert_allclose(model.standard_errors_[["r", "alpha"]], reference.standard_errors_[["r", "alpha"]],
                               rtol=1e-2)
    assert model.log_likelihood_ == pytest.approx(reference.log_likelihood_, abs=1e-3)


@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes not installed")
def test_pareto_nbd_on_the_no_dropout_limit_equals_lifetimes(whole_log):
    """lifetimes ends at s -> 0 (no dropout, like s/beta -> 0): the same r, alpha and the same
    log-likelihood, the NBD's, up to lifetimes' own convergence (measured 1e-7 to 1e-4 above
    it; segkit's value AT its bound s/beta = 1e-8 was 7e-4 below)."""
    from lifetimes import ParetoNBDFitter

    from segkit.clv import ParetoNBD

    x, tx, T = (whole_log[c].to_numpy() for c in ("frequency", "recency", "T"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = ParetoNBD().fit(x, tx, T, time_unit="D")
        # lifetimes starts from random parameters (np.random.normal(1, 0.05)) and from some of
        # them stops 12-39 log-likelihood units short on this flat ridge: start it at ones
        theirs = ParetoNBDFitter().fit(x.astype(int), tx, T, initial_params=np.ones(4))
    at_theirs = ours._log_likelihood_rows(theirs.params_[["r", "alpha", "s", "beta"]].to_numpy(), x, tx, T).sum()
    assert ours.optimizer_ == "NBD limit"
    assert at_theirs - 1e-5 <= ours.log_likelihood_ <= at_theirs + 1e-3
    np.testing.assert_allclose(ours.params_[["r", "alpha"]], theirs.params_[["r", "alpha"]], rtol=1e-4)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes not installed")
def test_pareto_nbd_is_faster_than_lifetimes_on_online_retail(whole_log, calibration):
    import time

    from lifetimes import ParetoNBDFitter

    from segkit.clv import ParetoNBD

    for table in (whole_log, calibration):
        x, tx, T = (table[c].to_numpy() for c in ("frequency", "recency", "T"))
        started = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ParetoNBD().fit(x, tx, T, time_unit="D")
        ours = time.process_time() - started
        started = time.process_time()
        ParetoNBDFitter().fit(x.astype(int), tx, T)
        theirs = time.process_time() - started
        assert ours < theirs, (ours, theirs)


@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes not installed")
@pytest.mark.parametrize(("cutoff", "r_se", "alpha_se"), [
    (None, 0.0268, 2.611),  # the whole log to 2011-12-09: a, b identified, full Hessian
    ("2011-06-11", 0.0363, 3.381),  # a 180-day holdout: a -> 0 (dropout not identified)
    ("2011-08-10", 0.0306, 3.108),
])
def test_r_and_alpha_standard_errors_equal_lifetimes(online_retail_purchases, whole_log, cutoff, r_se, alpha_se):
    """Issue 18 item 4: r and alpha keep their standard errors when dropout is not identified
    (conditional on a, b at the estimate). The issue quotes lifetimes' 0.034 and 3.27; no
    calibration cutoff reproduces both: lifetimes' BG/NBD converges on this log only at some
    cutoffs (not at the report's 2011-09-10, nor at any weekly cutoff from 2011-06-15 to
    2011-08-03, where ours are 0.0355-0.0315 and 3.35-3.18, e.g. 0.0333 and 3.28 at 2011-07-13),
    and where it converges the two libraries agree to 1e-3."""
    from lifetimes import BetaGeoFitter

    if cutoff is None:
        table = whole_log
    else:
        split = calibration_holdout({"events": online_retail_purchases}, pd.Timestamp(cutoff, tz="UTC"), END,
                                    windows=(30,))
        table = split.features[split.features["frequency"].notna()]
    x, tx, T = (table[c].to_numpy() for c in ("frequency", "recency", "T"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = BetaGeo().fit(x, tx, T, time_unit="D")
    theirs = BetaGeoFitter().fit(x.astype(int), tx, T)
    np.testing.assert_allclose(ours.standard_errors_[["r", "alpha"]], theirs.standard_errors_[["r", "alpha"]], rtol=1e-3)
    np.testing.assert_allclose(ours.standard_errors_[["r", "alpha"]], [r_se, alpha_se], rtol=2e-3)
    if cutoff == "2011-06-11":
        assert ours.standard_errors_[["a", "b"]].isna().all() and "conditional" in " ".join(ours.notes_)
