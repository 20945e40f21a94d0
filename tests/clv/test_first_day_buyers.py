"""Customers with T == 0 and the RFM time unit (issue 18, item 5).

``features.calibration_holdout`` gives T == 0 to a customer whose first purchase falls on the
cutoff day; lifetimes fits them (their likelihood is 1: no information, no harm) and so must
segkit. ``features.rfm`` states its unit, and ``fit_features`` must read it so CLV can convert
months into the data's unit.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from segkit.clv import BetaGeo, GammaGamma, ParetoNBD, clv_intervals
from segkit.features import calibration_holdout, rfm

HAS_LIFETIMES = importlib.util.find_spec("lifetimes") is not None
CUTOFF = pd.Timestamp("1997-09-30 23:59:59", tz="UTC")


@pytest.fixture(scope="module")
def with_newcomers(cdnow_summary) -> pd.DataFrame:
    """CDNOW (weeks) plus six customers whose first purchase is on the last day (T == 0)."""
    newcomers = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": 0.0}, index=range(6))
    return pd.concat([cdnow_summary[["frequency", "recency", "T"]], newcomers], ignore_index=True)


@pytest.mark.parametrize("model", [BetaGeo, ParetoNBD])
def test_t_zero_rows_fit_and_add_nothing_to_the_likelihood(with_newcomers, cdnow_summary, model):
    d, base = with_newcomers, cdnow_summary
    fit = model().fit(d["frequency"], d["recency"], d["T"], time_unit="W")
    reference = model().fit(base["frequency"], base["recency"], base["T"], time_unit="W")
    assert fit.n_customers_ == len(base) + 6
    assert fit.log_likelihood_ == pytest.approx(reference.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(fit.params_, reference.params_, rtol=1e-5)
    newcomer = fit.conditional_expected_purchases(10, [0.0], [0.0], [0.0])
    assert newcomer[0] == pytest.approx(fit.expected_purchases(10))
    assert fit.probability_alive([0.0], [0.0], [0.0])[0] == 1.0


@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes not installed")
def test_t_zero_rows_agree_with_lifetimes(with_newcomers):
    from lifetimes import BetaGeoFitter

    d = with_newcomers
    ours = BetaGeo().fit(d["frequency"], d["recency"], d["T"])
    theirs = BetaGeoFitter().fit(d["frequency"].to_numpy(), d["recency"].to_numpy(), d["T"].to_numpy())
    np.testing.assert_allclose(ours.params_, theirs.params_[["r", "alpha", "a", "b"]], rtol=1e-4)


def _cdnow_events(n_customers: int = 400) -> pd.DataFrame:
    from segkit.datasets import cdnow

    events = cdnow()
    keep = events["subscriber_id"].drop_duplicates().iloc[:n_customers]
    events = events[events["subscriber_id"].isin(keep)]
    first_day = pd.DataFrame(  # three customers whose first purchase is on the cutoff day
        {"subscriber_id": ["new-1", "new-2", "new-3"], "event_type": "purchase",
         "ts": CUTOFF - pd.Timedelta(hours=2), "value": 12.0}
    )
    return pd.concat([events, first_day.astype({"ts": events["ts"].dtype})], ignore_index=True)


def test_calibration_holdout_features_fit_directly():
    events = _cdnow_events()
    split = calibration_holdout({"events": events}, CUTOFF, CUTOFF + pd.Timedelta(days=90), windows=(30,))
    buyers = split.features[split.features["frequency"].notna()]
    assert (buyers["T"] == 0).sum() == 3
    fit = BetaGeo().fit_features(buyers)
    assert fit.time_unit_ == "D" and fit.n_customers_ == len(buyers)


def test_rfm_unit_reaches_clv_intervals():
    table = rfm({"events": _cdnow_events()}, CUTOFF, unit="W")
    assert table.attrs["unit"] == table.attrs["rfm_unit"] == "W"
    model = BetaGeo().fit_features(table)
    assert model.time_unit_ == "W"
    repeat = table[(table["frequency"] > 0) & (table["monetary_value"] > 0)]
    spend = GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
    out = clv_intervals(model, spend, table["frequency"], table["recency"], table["T"],
                        table["monetary_value"], periods=3, n_draws=20, random_state=0)
    assert np.isfinite(out.clv).all() and len(out.clv) == len(table)

