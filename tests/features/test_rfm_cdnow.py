"""RFM on the real CDNOW log against an independent pandas computation and against lifetimes.

Calibration end 1997-09-30 as in Fader, Hardie & Lee (2005). Purchases are at midnight UTC, so
UTC calendar days are the file's dates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from segkit.datasets import cdnow
from segkit.features import calibration_holdout, rfm

CUTOFF = pd.Timestamp("1997-09-30", tz="UTC")
END = pd.Timestamp("1998-06-30", tz="UTC")
COLUMNS = ["frequency", "recency", "T", "monetary_value"]


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return cdnow()


def pandas_rfm(tx: pd.DataFrame, end: pd.Timestamp, unit_days: int) -> pd.DataFrame:
    """Straightforward RFM: daily totals, first day dropped, mean of the rest."""
    tx = tx[tx["ts"] <= end]
    daily = tx.assign(day=tx["ts"].dt.floor("D")).groupby(["subscriber_id", "day"])["value"].sum()
    daily = daily.reset_index().sort_values(["subscriber_id", "day"])
    first_day = daily.groupby("subscriber_id")["day"].transform("min")
    repeats = daily[daily["day"] > first_day]
    per = daily.groupby("subscriber_id").agg(
        first=("day", "min"), last=("day", "max"), n=("day", "size")
    )
    out = pd.DataFrame(index=per.index)
    out["frequency"] = (per["n"] - 1).astype(float)
    out["recency"] = (per["last"] - per["first"]).dt.days / unit_days
    out["T"] = (end.floor("D") - per["first"]).dt.days / unit_days
    out["monetary_value"] = (
        repeats.groupby("subscriber_id")["value"].mean().reindex(per.index).fillna(0.0)
    )
    return out


def lifetimes_or_skip():
    try:
        from lifetimes import utils
    except Exception as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"lifetimes does not import here: {exc!r}")
    return utils


def naive(tx: pd.DataFrame) -> pd.DataFrame:
    return tx.assign(ts=tx["ts"].dt.tz_localize(None))


@pytest.mark.parametrize(("unit", "unit_days"), [("D", 1), ("W", 7)])
def test_rfm_equals_independent_pandas(transactions, unit, unit_days):
    ours = rfm({"events": transactions}, CUTOFF, unit=unit)
    expected = pandas_rfm(transactions, CUTOFF, unit_days)
    assert ours.index.equals(expected.index.rename("subscriber_id"))
    assert len(ours) == 23_570 and ours.attrs["unit"] == unit
    pd.testing.assert_frame_equal(ours, expected[COLUMNS].rename_axis("subscriber_id"), rtol=1e-12)


def test_rfm_cdnow_shape(transactions):
    """23,570 customers, all with a first purchase in Q1 1997 (see ``segkit.datasets.cdnow_raw``),
    so T at 1997-09-30 is at most 272 days (from 1997-01-01)."""
    ours = rfm({"events": transactions}, CUTOFF)
    assert len(ours) == 23_570
    assert ours["T"].max() == 272.0
    assert (ours["recency"] <= ours["T"]).all() and (ours["frequency"] >= 0).all()
    assert (ours.loc[ours["frequency"] == 0, ["recency", "monetary_value"]] == 0).all().all()


@pytest.mark.parametrize(("unit", "multiplier"), [("D", 1), ("W", 7)])
def test_rfm_equals_lifetimes(transactions, unit, multiplier):
    utils = lifetimes_or_skip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = utils.summary_data_from_transaction_data(
                naive(transactions), "subscriber_id", "ts", monetary_value_col="value",
                observation_period_end="1997-09-30", freq="D", freq_multiplier=multiplier,
            )  # fmt: skip
    except Exception as exc:  # pragma: no cover - lifetimes vs pandas 3
        pytest.skip(f"lifetimes raised on this pandas: {exc!r}")
    ours = rfm({"events": transactions}, CUTOFF, unit=unit)
    expected = expected.rename_axis("subscriber_id").astype(float).sort_index()
    pd.testing.assert_frame_equal(ours, expected[COLUMNS], rtol=1e-12)


@pytest.fixture(scope="module")
def split(transactions):
    return calibration_holdout({"events": transactions}, CUTOFF, END, windows=(90,))


def test_calibration_holdout_equals_lifetimes(transactions, split):
    utils = lifetimes_or_skip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = utils.calibration_and_holdout_data(
                naive(transactions), "subscriber_id", "ts", calibration_period_end="1997-09-30",
                observation_period_end="1998-06-30", freq="D", monetary_value_col="value",
            )  # fmt: skip
    except Exception as exc:  # pragma: no cover - lifetimes vs pandas 3
        pytest.skip(f"lifetimes raised on this pandas: {exc!r}")
    frame = split.to_frame()
    expected = expected.rename_axis("subscriber_id").sort_index()
    assert frame.index.equals(expected.index)
    for ours, theirs in [
        ("frequency", "frequency_cal"), ("recency", "recency_cal"), ("T", "T_cal"),
        ("monetary_value", "monetary_value_cal"), ("holdout_purchases", "frequency_holdout"),
        ("duration_holdout", "duration_holdout"),
    ]:  # fmt: skip
        np.testing.assert_allclose(
            frame[ours].to_numpy(float), expected[theirs].to_numpy(float), rtol=1e-12, err_msg=ours
        )
    assert split.duration_holdout == 273.0


def test_holdout_outcomes_equal_pandas(transactions, split):
    held = transactions[(transactions["ts"] > CUTOFF) & (transactions["ts"] <= END)]
    by = held.groupby("subscriber_id")
    outcomes = split.outcomes
    expected_days = by["ts"].nunique().reindex(outcomes.index, fill_value=0)
    expected_revenue = by["value"].sum().reindex(outcomes.index, fill_value=0.0)
    assert (outcomes["holdout_purchases"] == expected_days).all()
    assert (
        outcomes["holdout_purchase_events"] == by.size().reindex(outcomes.index, fill_value=0)
    ).all()
    np.testing.assert_allclose(outcomes["holdout_revenue"], expected_revenue, rtol=1e-12)
    assert (outcomes["holdout_active"] == (expected_days > 0)).all()
    assert outcomes["holdout_opens"].sum() == 0 and not outcomes["holdout_unsubscribed"].any()


def test_rfm_start_drops_earlier_purchases(transactions):
    start = pd.Timestamp("1997-02-01", tz="UTC")
    ours = rfm({"events": transactions}, CUTOFF, start=start)
    expected = pandas_rfm(transactions[transactions["ts"] >= start], CUTOFF, 1)
    pd.testing.assert_frame_equal(ours, expected[COLUMNS].rename_axis("subscriber_id"), rtol=1e-12)
    assert ours.attrs["start"] == "1997-02-01T00:00:00+00:00"
