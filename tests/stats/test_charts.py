"""Chart builders for experiment results: valid Vega-Lite, the right data, no statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.charts import cumulative_lift_chart, lift_forest_chart
from segkit.errors import ValidationError
from segkit.stats import analyze, analyze_segments, sequential_test


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(19)
    n = 8000
    arm = rng.choice(["control", "b", "c"], n)
    return pd.DataFrame({
        "arm": arm, "segment": rng.choice(["new", "loyal"], n),
        "date": pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 7, n), unit="D"),
        "click": (rng.random(n) < np.where(arm == "b", 0.12, 0.1)).astype(int),
        "revenue": rng.gamma(1.0, 4.0, n),
    })


def _data(spec: dict) -> pd.DataFrame:
    return pd.DataFrame(next(iter(spec["datasets"].values())))


def test_forest_plot_carries_every_interval(df):
    result = analyze(df, metrics=["click", "revenue"])
    spec = lift_forest_chart(result).to_dict()
    data = _data(spec).set_index(["label", "metric"])
    frame = result.to_frame().set_index(["arm", "metric"])
    assert len(data) == len(frame) == 4
    for key, row in frame.iterrows():
        assert data.loc[key, "low"] == pytest.approx(row.rel_lift_ci_low)
        assert data.loc[key, "high"] == pytest.approx(row.rel_lift_ci_high)
    absolute = lift_forest_chart(result.to_frame(), relative=False).to_dict()
    assert _data(absolute)["lift"].tolist() == pytest.approx(result.to_frame()["abs_lift"].tolist())
    segments = lift_forest_chart(analyze_segments(df, "segment", metrics=["click"])).to_dict()
    assert any(" · " in label for label in _data(segments)["label"])


def test_cumulative_lift_chart_uses_the_sequence_or_fixed_band(df):
    result = sequential_test(df, metric="click")
    frame = result.to_frame()
    for band, low in (("sequence", "cs_low"), ("fixed", "ci_low")):
        data = _data(cumulative_lift_chart(result, band=band).to_dict())
        finite = frame[np.isfinite(frame[low])]
        assert data["low"].tolist() == pytest.approx(finite[low].tolist())
    with pytest.raises(ValidationError, match="valid: sequence, fixed"):
        cumulative_lift_chart(result, band="both")
    with pytest.raises(ValidationError, match="missing column"):
        cumulative_lift_chart(frame.drop(columns="cs_low"))


def test_chart_module_does_no_statistics():
    import segkit.charts._stats as module

    source = open(module.__file__).read()
    for banned in ("scipy", "statsmodels", "numpy", ".mean(", ".std("):
        assert banned not in source
