"""CLV: agreement with lifetimes' discrete-time formula; intervals from parameter uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.clv import BetaGeo, clv_intervals, customer_lifetime_value
from segkit.errors import ValidationError


@pytest.fixture(scope="module")
def bg_spend(cdnow_spend):
    return BetaGeo().fit(cdnow_spend["x"], cdnow_spend["t_x"], cdnow_spend["T"], time_unit="W")


def test_clv_matches_lifetimes_formula(bg_spend, gamma_gamma, cdnow_spend, oracle):
    ref = oracle["clv_bgnbd_gg"]
    d = cdnow_spend.head(oracle["first_customers"])
    got = customer_lifetime_value(
        bg_spend, gamma_gamma, d["x"], d["t_x"], d["T"], d["zbar"],
        periods=12, period_length=ref["period_length"], discount_rate=0.01,
    )
    assert isinstance(got, pd.Series)
    np.testing.assert_allclose(got, ref["clv"], rtol=1e-4)


def test_clv_equals_hand_sum(bg_spend, gamma_gamma):
    x, tx, T, m = [3.0], [20.0], [38.0], [25.0]
    length = 365.25 / 12 / 7
    cum = [bg_spend.conditional_expected_purchases(k * length, x, tx, T)[0] for k in range(4)]
    spend = gamma_gamma.conditional_expected_spend(x, m)[0]
    expected = sum(spend * (cum[k] - cum[k - 1]) / 1.05**k for k in range(1, 4))
    got = customer_lifetime_value(bg_spend, gamma_gamma, x, tx, T, m, periods=3, discount_rate=0.05)
    assert got[0] == pytest.approx(expected, rel=1e-12)


def test_clv_needs_a_period_length_when_unit_unknown(cdnow_spend, gamma_gamma):
    model = BetaGeo().fit(cdnow_spend["x"], cdnow_spend["t_x"], cdnow_spend["T"])
    with pytest.raises(ValidationError, match="pass period_length"):
        customer_lifetime_value(model, gamma_gamma, [1], [2], [3], [10.0])
    with pytest.raises(ValidationError, match="periods"):
        customer_lifetime_value(model, gamma_gamma, [1], [2], [3], [10.0], periods=0, period_length=4)


def test_intervals_bracket_the_point_and_shrink_with_more_data(bg_spend, gamma_gamma, cdnow_spend):
    d = cdnow_spend.head(200)
    result = clv_intervals(bg_spend, gamma_gamma, d["x"], d["t_x"], d["T"], d["zbar"], n_draws=100, random_state=0)
    frame = result.to_frame()
    assert list(frame.columns) == ["clv", "lower", "upper"] and frame.index.equals(d.index)
    inside = (frame["lower"] <= frame["clv"] * 1.02) & (frame["clv"] <= frame["upper"] * 1.02)
    assert inside.mean() > 0.95
    assert (frame["upper"] > frame["lower"]).all()
    # Fit on a tenth of the customers: parameter uncertainty and hence the intervals grow.
    small = cdnow_spend.sample(400, random_state=1)
    bg_small = BetaGeo().fit(small["x"], small["t_x"], small["T"], time_unit="W")
    narrow = (frame["upper"] - frame["lower"]).median()
    wide_frame = clv_intervals(bg_small, gamma_gamma, d["x"], d["t_x"], d["T"], d["zbar"], n_draws=100, random_state=0).to_frame()
    assert (wide_frame["upper"] - wide_frame["lower"]).median() > 1.5 * narrow
    assert result.total_lower < frame["clv"].sum() < result.total_upper
    assert result.total_upper - result.total_lower < (frame["upper"] - frame["lower"]).sum()
    assert "draws" in result.summary() and "<p>" in result._repr_html_()
