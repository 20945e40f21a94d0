"""MBG/NBD (Batislam et al. 2007) against lifetimes' ModifiedBetaGeoFitter."""

from __future__ import annotations

import numpy as np
import pytest

from segkit.clv import BetaGeo, ModifiedBetaGeo


@pytest.fixture(scope="module")
def mbgnbd(cdnow_summary):
    d = cdnow_summary
    return ModifiedBetaGeo().fit(d["frequency"], d["recency"], d["T"], time_unit="W")


def test_matches_lifetimes_oracle(mbgnbd, oracle, cdnow_summary):
    ref = oracle["mbgnbd"]
    for name, value in ref["params"].items():
        assert mbgnbd.params_[name] == pytest.approx(value, rel=1e-4)
        assert mbgnbd.standard_errors_[name] == pytest.approx(ref["standard_errors"][name], rel=1e-3)
    assert mbgnbd.log_likelihood_ == pytest.approx(ref["log_likelihood"], rel=1e-4)
    d = cdnow_summary.head(oracle["first_customers"])
    np.testing.assert_allclose(mbgnbd.conditional_expected_purchases(39, d["frequency"], d["recency"], d["T"]), ref["conditional_expected_39"], rtol=1e-4)
    np.testing.assert_allclose(mbgnbd.probability_alive(d["frequency"], d["recency"], d["T"]), ref["probability_alive"], rtol=1e-4)
    np.testing.assert_allclose(mbgnbd.expected_purchases(ref["expected_purchases_t"]), ref["expected_purchases"], rtol=1e-4)
    np.testing.assert_allclose(mbgnbd.probability_of_purchases(ref["probability_of_purchases_t39_n"], 39), ref["probability_of_purchases_t39"], rtol=1e-4)


def test_differs_from_bgnbd_where_it_should(mbgnbd, bgnbd):
    # BG/NBD: a customer with no repeat purchase is alive for sure; MBG/NBD: not.
    assert bgnbd.probability_alive([0], [0], [30])[0] == 1.0
    assert 0 < mbgnbd.probability_alive([0], [0], [30])[0] < 1
    n = np.arange(400)
    pmf = mbgnbd.probability_of_purchases(n, 39.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
    assert (n * pmf).sum() == pytest.approx(mbgnbd.expected_purchases(39.0), rel=1e-4)
    assert isinstance(mbgnbd, BetaGeo)
