"""Calibration vs holdout on the full CDNOW cohort; period-transactions histogram; charts."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import pytest

from segkit.charts import clv_calibration_holdout_chart, clv_period_transactions_chart
from segkit.clv import BetaGeo, ParetoNBD, calibration_vs_holdout, period_transactions
from segkit.datasets import cdnow, cdnow_raw
from segkit.errors import ValidationError

CUTOFF = pd.Timestamp("1997-09-30", tz="UTC")
END = pd.Timestamp("1998-06-30", tz="UTC")


@pytest.fixture(scope="module")
def cohort():
    """Calibration features (weeks) and holdout purchases from segkit.features."""
    from segkit.features import calibration_holdout

    split = calibration_holdout({"events": cdnow()}, CUTOFF, END, unit="W")
    frame = split.features[["frequency", "recency", "T"]].join(split.outcomes["holdout_purchases"])
    frame.attrs.update(split.features.attrs)
    return frame


def test_features_agree_with_an_independent_pandas_count(cohort):
    raw = cdnow_raw()
    days = raw.drop_duplicates(["customer_id", "date"])
    holdout = days[(days["date"] > CUTOFF.tz_localize(None)) & (days["date"] <= END.tz_localize(None))]
    assert cohort["holdout_purchases"].sum() == len(holdout) == 19_684
    calibration = days[days["date"] <= CUTOFF.tz_localize(None)]
    assert cohort["frequency"].sum() == len(calibration) - calibration["customer_id"].nunique()
    assert len(cohort) == 23_570 and cohort.attrs["rfm_unit"] == "W"


@pytest.mark.parametrize("model_class", [BetaGeo, ParetoNBD])
def test_full_cdnow_calibration_vs_holdout(cohort, model_class):
    model = model_class().fit_features(cohort)
    result = calibration_vs_holdout(model, cohort["frequency"], cohort["recency"], cohort["T"], cohort["holdout_purchases"], 39.0)
    table = result.table
    assert list(table["calibration_frequency"].astype(str)) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 23_570
    assert result.total_actual == 19_684
    # Measured: BG/NBD predicts 16,874 (-14.3%), Pareto/NBD 17,153 (-12.9%). The 10% target is
    # NOT met; the published parameters on the published 2,357 sample miss by the same amount (see
    # test_published_sample_under_forecasts_the_holdout), so it is the model on CDNOW, not the computation.
    assert -0.16 < result.relative_error < -0.10
    # predictions rise with calibration frequency, like the actual means
    assert np.all(np.diff(table["predicted_mean"]) > 0) and np.all(np.diff(table["actual_mean"]) > 0)
    assert result.correlation > 0.6 and result.mae < 0.9
    assert "holdout" in result.summary() and "<table" in result._repr_html_()
    chart = clv_calibration_holdout_chart(result)
    assert isinstance(chart, alt.Chart) and chart.to_dict()["mark"]["type"] == "line"


def test_period_transactions_counts(bgnbd, cdnow_summary):
    d = cdnow_summary
    result = period_transactions(bgnbd, d["frequency"], d["T"])
    table = result.to_frame()
    assert table["actual"].sum() == 2357 and table["expected"].sum() == pytest.approx(2357)
    assert table.loc[0, "actual"] == (d["frequency"] == 0).sum()
    assert np.allclose(table["expected"], table["actual"], rtol=0.25, atol=30)
    chart = clv_period_transactions_chart(result)
    assert len(chart.to_dict()["datasets"][next(iter(chart.to_dict()["datasets"]))]) == 16


def test_diagnostic_input_errors(bgnbd):
    with pytest.raises(ValidationError, match="holdout_purchases has 1 rows"):
        calibration_vs_holdout(bgnbd, [1, 0], [2, 0], [5, 5], [1], 10)
    with pytest.raises(ValidationError, match="max_frequency"):
        period_transactions(bgnbd, [1], [5], max_frequency=0)


def test_published_sample_under_forecasts_the_holdout(cdnow_summary, published):
    """Fader, Hardie & Lee's own sample and parameters forecast ~12% too few holdout purchases.

    The transaction log of the 2,357-customer sample ships with lifetimes (``CDNOW_sample.txt``);
    counting repeat-purchase days exactly as the published summary does (its calibration total,
    2,457, is reproduced) gives 1,882 holdout purchase days, and BG/NBD with the published
    parameters predicts about 1,653: the full-cohort shortfall is a property of the model on CDNOW.
    """
    datasets = pytest.importorskip("lifetimes.datasets")
    from pathlib import Path

    log = pd.read_csv(Path(datasets.__file__).parent / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "sales"])
    days = log.assign(date=pd.to_datetime(log["date"].astype(str))).drop_duplicates(["customer_id", "date"])
    calibration = days[days["date"] <= CUTOFF.tz_localize(None)]
    holdout = days[days["date"] > CUTOFF.tz_localize(None)]
    assert len(calibration) - calibration["customer_id"].nunique() == cdnow_summary["frequency"].sum() == 2457
    assert len(holdout) == 1882
    model = BetaGeo().fit(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    reference = published["bgnbd_cdnow_2357"]
    for name, value in reference["params"].items():
        assert abs(model.params_[name] - value) <= reference["rounding"]["params"]
    d = cdnow_summary
    predicted = model.conditional_expected_purchases(39.0, d["frequency"], d["recency"], d["T"]).sum()
    assert predicted == pytest.approx(1653, abs=5)
    assert -0.13 < predicted / 1882 - 1 < -0.11
