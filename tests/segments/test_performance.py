"""Per-segment performance: values vs direct sums, tests vs statsmodels, Holm across rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from segkit.errors import ValidationError
from segkit.segments import engagement_tiers, segment_performance


@pytest.fixture(scope="module")
def performance(synthetic_features):
    return segment_performance(synthetic_features, engagement_tiers(synthetic_features))


def test_values_are_ratios_of_sums(performance, synthetic_features) -> None:
    table = performance.to_frame().set_index(["segment", "metric"])
    recipients = synthetic_features[synthetic_features["sends_90d"] > 0]
    tiers = engagement_tiers(synthetic_features).loc[recipients.index]
    for tier in ("highly_engaged", "low"):
        inside, rest = recipients[tiers == tier], recipients[tiers != tier]
        row = table.loc[(tier, "click_rate")]
        assert row["recipients"] == len(inside)
        assert row["value"] == pytest.approx(inside["unique_clicks_90d"].sum() / inside["sends_90d"].sum())
        assert row["rest_value"] == pytest.approx(rest["unique_clicks_90d"].sum() / rest["sends_90d"].sum())
        assert row["ci_low"] < row["value"] < row["ci_high"]
        conv = table.loc[(tier, "conversion_rate")]
        counts = [(inside["purchase_count_90d"] > 0).sum(), (rest["purchase_count_90d"] > 0).sum()]
        _, p_value = proportions_ztest(counts, [len(inside), len(rest)])
        assert conv["p_value"] == pytest.approx(p_value, rel=1e-6)


def test_holm_across_all_rows(performance) -> None:
    table = performance.to_frame()
    finite = table["p_value"].notna()
    expected = multipletests(table.loc[finite, "p_value"], method="holm")[1]
    np.testing.assert_allclose(table.loc[finite, "p_value_adjusted"], expected)
    assert table.loc[(table["segment"] == "highly_engaged") & (table["metric"] == "click_rate"),
                     "significant"].item()
    assert "holm correction" in performance.summary()


def test_membership_frame_and_errors(synthetic_features) -> None:
    frame = pd.DataFrame({"buyers": synthetic_features["purchase_count_365d"] > 0})
    result = segment_performance(synthetic_features, frame)
    assert set(result.to_frame()["segment"]) == {"buyers"}
    with pytest.raises(ValidationError, match="sends_7d"):
        segment_performance(synthetic_features, frame, window=7)
