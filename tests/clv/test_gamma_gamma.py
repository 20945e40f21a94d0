"""Gamma-Gamma: published values, lifetimes oracle, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from segkit.clv import GammaGamma
from segkit.errors import ValidationError


def test_matches_published_values(gamma_gamma, published):
    ref = published["gamma_gamma_cdnow_2357"]
    for name, value in ref["params"].items():
        assert abs(gamma_gamma.params_[name] - value) <= ref["rounding"]["params"] + 0.01, name
    assert gamma_gamma.n_customers_ == 946


def test_matches_lifetimes_oracle(gamma_gamma, oracle, cdnow_spend):
    ref = oracle["gamma_gamma"]
    for name, value in ref["params"].items():
        assert gamma_gamma.params_[name] == pytest.approx(value, rel=1e-4)
    assert gamma_gamma.log_likelihood_ == pytest.approx(ref["log_likelihood"], rel=1e-4)
    assert gamma_gamma.log_likelihood_ >= ref["log_likelihood"] - 1e-6
    d = cdnow_spend.head(oracle["first_customers"])
    np.testing.assert_allclose(gamma_gamma.conditional_expected_spend(d["x"], d["zbar"]), ref["conditional_expected_spend"], rtol=1e-4)


def test_zero_frequency_rows_are_ignored(cdnow_spend, gamma_gamma):
    buyers = cdnow_spend[cdnow_spend["x"] > 0]
    only = GammaGamma().fit(buyers["x"], buyers["zbar"])
    np.testing.assert_allclose(only.params_, gamma_gamma.params_, rtol=1e-8)


def test_fit_features(cdnow_spend):
    df = cdnow_spend.rename(columns={"x": "frequency", "zbar": "monetary_value"})
    assert GammaGamma().fit_features(df).params_["q"] == pytest.approx(3.74, abs=0.01)


@pytest.mark.parametrize(
    ("frequency", "spend", "match"),
    [
        ([1, 2], [10.0, np.nan], "monetary_value must be finite and >= 0"),
        ([1, 2], [10.0, -5.0], "monetary_value must be finite and >= 0"),
        ([0, 0], [0.0, 0.0], "no repeat buyers"),
        ([1.5, 2], [1.0, 1.0], "whole number"),
        ([1], [1.0, 2.0], "lengths differ"),
    ],
)
def test_invalid_spend_input(frequency, spend, match):
    with pytest.raises(ValidationError, match=match):
        GammaGamma().fit(frequency, spend)


def test_zero_spend_repeat_buyers_are_left_out_with_a_warning(cdnow_spend, gamma_gamma):
    from segkit.errors import DataSufficiencyWarning

    x = np.append(cdnow_spend["x"].to_numpy(), [2, 3])
    m = np.append(cdnow_spend["zbar"].to_numpy(), [0.0, 0.0])
    with pytest.warns(DataSufficiencyWarning, match="2 repeat buyers with monetary_value 0"):
        model = GammaGamma().fit(x, m)
    np.testing.assert_allclose(model.params_, gamma_gamma.params_, rtol=1e-8)
    assert model.conditional_expected_spend([2], [0.0])[0] > 0
