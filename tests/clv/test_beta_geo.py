"""BG/NBD: published values, lifetimes as oracle, predictions, invariances and input errors."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from segkit.clv import BetaGeo
from segkit.clv._beta_geo import log_likelihood_rows
from segkit.errors import InputError, NotFittedError, ValidationError

HAS_LIFETIMES = importlib.util.find_spec("lifetimes") is not None


def test_matches_published_fader_hardie_lee_values(bgnbd, published):
    ref = published["bgnbd_cdnow_2357"]
    for name, value in ref["params"].items():
        assert abs(bgnbd.params_[name] - value) <= ref["rounding"]["params"] + 1e-12, name
    assert abs(bgnbd.log_likelihood_ - ref["log_likelihood"]) <= ref["rounding"]["log_likelihood"]
    assert bgnbd.converged_ and bgnbd.n_customers_ == 2357 and bgnbd.time_unit_ == "W"


def test_matches_lifetimes_oracle_to_1e4(bgnbd, oracle):
    ref = oracle["bgnbd"]
    for name, value in ref["params"].items():
        assert bgnbd.params_[name] == pytest.approx(value, rel=1e-4)
        assert bgnbd.standard_errors_[name] == pytest.approx(ref["standard_errors"][name], rel=1e-3)
    assert bgnbd.log_likelihood_ == pytest.approx(ref["log_likelihood"], rel=1e-4)
    assert bgnbd.log_likelihood_ >= ref["log_likelihood"] - 1e-6


def test_predictions_match_lifetimes_oracle(bgnbd, cdnow_summary, oracle):
    ref, d = oracle["bgnbd"], cdnow_summary.head(oracle["first_customers"])
    np.testing.assert_allclose(
        bgnbd.conditional_expected_purchases(39, d["frequency"], d["recency"], d["T"]),
        ref["conditional_expected_39"], rtol=1e-4,
    )
    np.testing.assert_allclose(bgnbd.probability_alive(d["frequency"], d["recency"], d["T"]), ref["probability_alive"], rtol=1e-4)
    np.testing.assert_allclose(bgnbd.expected_purchases(ref["expected_purchases_t"]), ref["expected_purchases"], rtol=1e-4)
    np.testing.assert_allclose(
        bgnbd.probability_of_purchases(ref["probability_of_purchases_t39_n"], 39), ref["probability_of_purchases_t39"], rtol=1e-4
    )


@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes not installed (oracle JSON covers it)")
def test_fit_agrees_with_live_lifetimes(cdnow_summary, bgnbd):
    from lifetimes import BetaGeoFitter

    d = cdnow_summary
    # numpy arrays: lifetimes 0.11 works on the raw values; see report for its pandas-3 problems.
    lt = BetaGeoFitter().fit(d["frequency"].to_numpy(), d["recency"].to_numpy(), d["T"].to_numpy())
    np.testing.assert_allclose(bgnbd.params_.to_numpy(), lt.params_[["r", "alpha", "a", "b"]].to_numpy(), rtol=1e-4)


def test_pmf_sums_to_one_and_mean_matches_expectation(bgnbd):
    n = np.arange(400)
    pmf = bgnbd.probability_of_purchases(n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
    assert (n * pmf).sum() == pytest.approx(bgnbd.expected_purchases(39.0), rel=1e-4)


@pytest.mark.parametrize("x", [1, 2, 4])
def test_likelihood_integrates_to_the_count_probability(bgnbd, x):
    """L(x, t_x, T) is the density of purchase times; integrating out the x - 1 earlier times
    (volume t_x^(x-1)/(x-1)!) and then t_x gives P(X(T) = x), equation (8): an independent check
    that ties the likelihood to the count distribution."""
    params, T = bgnbd.params_.to_numpy(), 10.0

    def integrand(t: float) -> float:
        row = log_likelihood_rows(params, np.array([float(x)]), np.array([t]), np.array([T]))[0]
        return np.exp(row) * t ** (x - 1) / math.factorial(x - 1)

    assert integrate.quad(integrand, 0, T)[0] == pytest.approx(bgnbd.probability_of_purchases(x, T), rel=1e-6)


def test_future_probability_alive_matches_simulation(bgnbd):
    r, alpha, a, b = bgnbd.params_.to_numpy()
    x, tx, T, future = 3.0, 20.0, 39.0, 30.0
    rng = np.random.default_rng(5)
    n = 400_000
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    # posterior given the data: weight each draw by its likelihood, alive at T by the alive-term share
    like_alive = lam**x * np.exp(-lam * T) * (1 - p) ** x
    like_dead = lam**x * np.exp(-lam * tx) * p * (1 - p) ** (x - 1)
    alive_later = np.exp(-lam * p * future)
    expected = (like_alive * alive_later).sum() / (like_alive + like_dead).sum()
    got = bgnbd.probability_alive([x], [tx], [T], future_t=future)[0]
    assert got == pytest.approx(expected, rel=0.02)
    assert got < bgnbd.probability_alive([x], [tx], [T])[0]


def test_compressed_weights_equal_expanded_rows(cdnow_summary, bgnbd):
    d = cdnow_summary
    grouped = d.groupby(["frequency", "recency", "T"], as_index=False).size()
    weighted = BetaGeo().fit(grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["size"])
    np.testing.assert_allclose(weighted.params_, bgnbd.params_, rtol=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(bgnbd.log_likelihood_, rel=1e-10)


def test_window_and_series_index(bgnbd, cdnow_summary):
    d = cdnow_summary.set_index("ID").head(50)
    whole = bgnbd.conditional_expected_purchases(20, d["frequency"], d["recency"], d["T"])
    assert isinstance(whole, pd.Series) and whole.index.equals(d.index)
    first = bgnbd.conditional_expected_purchases(8, d["frequency"], d["recency"], d["T"])
    window = bgnbd.expected_purchases_in_window(8, 20, d["frequency"], d["recency"], d["T"])
    np.testing.assert_allclose(window, whole - first, rtol=1e-12)


def test_summary_table_and_html(bgnbd):
    table = bgnbd.summary()
    assert list(table.index) == ["r", "alpha", "a", "b"]
    assert (table["lower 95%"] < table["estimate"]).all() and (table["estimate"] < table["upper 95%"]).all()
    assert "BetaGeo" in bgnbd._repr_html_() and table.attrs["converged"]


def test_fit_features_reads_unit(cdnow_summary):
    df = cdnow_summary.drop(columns="ID")
    df.attrs["rfm_unit"] = "W"
    model = BetaGeo().fit_features(df)
    assert model.time_unit_ == "W" and model.params_["r"] == pytest.approx(0.2426, abs=1e-4)
    with pytest.raises(InputError, match="lacks column.*T, recency"):
        BetaGeo().fit_features(df.drop(columns=["T", "recency"]))


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "match"),
    [
        ([1, 2], [5, 20], [10, 10], "recency must be <= T"),
        ([1, -1], [5, 0], [10, 10], "frequency must be >= 0"),
        ([1.5, 1], [5, 5], [10, 10], "whole number"),
        ([0, 0], [0, 0], [10, 10], "no customer made a repeat purchase"),
        ([1, np.nan], [5, 5], [10, 10], "finite"),
        ([0, 1], [3, 5], [10, 10], "recency must be 0 when frequency is 0"),
        ([1, 0], [5, 0], [10, -1], "T .* must be >= 0"),
        ([1, 1], [5, 5], [10], "same length"),
    ],
)
def test_invalid_input_is_rejected_with_the_row(frequency, recency, T, match):
    with pytest.raises(ValidationError, match=match):
        BetaGeo().fit(frequency, recency, T)


def test_empty_input_and_unfitted_and_bad_params():
    with pytest.raises(InputError, match="empty"):
        BetaGeo().fit([], [], [])
    with pytest.raises(NotFittedError, match="not fitted"):
        BetaGeo().expected_purchases(5)
    with pytest.raises(ValidationError, match="max_iter"):
        BetaGeo(max_iter=0).fit([1], [1], [2])
    with pytest.raises(ValidationError, match="unknown time unit 'M'; valid: D, W"):
        BetaGeo().fit([1, 0], [1, 0], [2, 2], time_unit="M")


def test_recency_rounding_above_T_is_tolerated(cdnow_summary):
    """Unit conversion can leave recency a hair above T; it is clipped, not rejected."""
    d = cdnow_summary
    frequency, T = d["frequency"].to_numpy(), d["T"].to_numpy()
    recency = d["recency"].to_numpy().copy()
    buyers = np.flatnonzero(frequency > 0)[:20]
    recency[buyers] = T[buyers] * (1 + 1e-12)
    assert BetaGeo().fit(frequency, recency, T).converged_
    recency[buyers] = T[buyers] * 1.001
    with pytest.raises(ValidationError, match="recency must be <= T: 20 rows"):
        BetaGeo().fit(frequency, recency, T)


def test_sufficiency_warning_on_thin_data():
    from segkit.errors import DataSufficiencyWarning

    with pytest.warns(DataSufficiencyWarning, match="repeat"):
        model = BetaGeo().fit([0] * 40 + [1, 2, 1, 3], [0] * 40 + [2, 5, 1, 6], [10] * 44)
    assert not model.data_sufficiency_.sufficient


def test_method_of_moments_start_is_close_to_the_nbd_fit(cdnow_summary, bgnbd):
    r, alpha = BetaGeo._nbd_start(cdnow_summary["frequency"].to_numpy(float), cdnow_summary["T"].to_numpy(), np.ones(2357))
    # the start reproduces the mean repeat count over the mean age, the moment it was built from
    assert r / alpha * cdnow_summary["T"].mean() == pytest.approx(cdnow_summary["frequency"].mean(), rel=1e-9)
    assert np.isfinite(stats.nbinom.logpmf(0, r, alpha / (alpha + 39)))


def test_predictions_stay_finite_when_dropout_parameters_are_huge():
    """A fit on the near-constant-dropout bound (a, b ~ 1e5) must not predict NaN (0 * inf in
    Euler's form); the values continue smoothly from moderate a, b with the same a / (a + b)."""
    from segkit.clv._beta_geo import conditional_expected

    x, tx, T = np.array([0.0, 1.0, 3.0]), np.array([0.0, 50.0, 200.0]), np.array([100.0, 300.0, 365.0])
    huge = conditional_expected(np.array([1.5, 140.0, 1e5, 1.2e5]), 90.0, x, tx, T)
    large = conditional_expected(np.array([1.5, 140.0, 1e3, 1.2e3]), 90.0, x, tx, T)
    assert np.all(np.isfinite(huge)) and np.allclose(huge, large, rtol=2e-3)
