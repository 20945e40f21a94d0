"""Segment breakdown: per-segment numbers equal a per-segment analysis; correction spans all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from segkit.errors import ValidationError
from segkit.stats import analyze, analyze_segments


@pytest.fixture(scope="module")
def df():
    rng = np.random.default_rng(18)
    n = 30_000
    segment = rng.choice(["new", "loyal", "lapsed"], n)
    arm = rng.choice(["control", "b"], n)
    rate = 0.05 + np.where((arm == "b") & (segment == "loyal"), 0.02, 0.0)
    return pd.DataFrame({"segment": segment, "arm": arm,
                         "conversion": (rng.random(n) < rate).astype(int),
                         "spend": rng.gamma(1.0, 5.0, n)})


def test_each_segment_matches_its_own_analysis_and_holm_spans_segments(df):
    result = analyze_segments(df, "segment", metrics=["conversion", "spend"])
    frame = result.to_frame()
    assert list(frame.columns[:2]) == ["segment", "arm"] and len(frame) == 6
    loyal = analyze(df[df.segment == "loyal"], metrics=["conversion", "spend"]).to_frame()
    mine = frame[frame.segment == "loyal"].reset_index(drop=True)
    np.testing.assert_allclose(mine["p_value"], loyal["p_value"], rtol=1e-12)
    np.testing.assert_allclose(frame["p_value_adjusted"],
                               multipletests(frame["p_value"], method="holm")[1], atol=1e-12)
    winners = frame[frame.significant]
    assert list(winners[["segment", "metric"]].itertuples(index=False, name=None)) == [
        ("loyal", "conversion")]
    assert set(result.srm) == {"lapsed", "loyal", "new"}
    assert "segment = loyal" in result.summary() and "<table" in result._repr_html_()


def test_no_usable_segment_is_an_error(df):
    with pytest.raises(ValidationError, match="no segment of 'segment'"):
        analyze_segments(df.head(3).assign(arm="control").pipe(
            lambda d: pd.concat([d, d.head(1).assign(arm="b", segment="other")])),
            "segment", metrics=["conversion"])
