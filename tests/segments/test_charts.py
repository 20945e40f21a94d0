"""Segment charts build valid Vega-Lite from real results."""

from __future__ import annotations

import pytest

from segkit.charts import (
    cluster_profile_chart,
    score_distribution_chart,
    segment_performance_chart,
    segment_sizes_chart,
    segment_transition_chart,
)
from segkit.errors import ValidationError
from segkit.segments import (
    SegmentClusterer,
    engagement_score,
    engagement_tiers,
    segment_performance,
)


def test_charts_render_to_vega_lite(synthetic_features) -> None:
    tiers = engagement_tiers(synthetic_features)
    sizes = segment_sizes_chart(tiers).to_dict()
    values = next(iter(sizes["datasets"].values()))
    assert sum(v["subscribers"] for v in values) == len(tiers)
    performance = segment_performance(synthetic_features, tiers)
    assert segment_performance_chart(performance, metric="open_rate").to_dict()["layer"]
    matrix = tiers.to_frame("x").assign(y=tiers).pipe(lambda f: f.groupby(["x", "y"]).size().unstack())
    assert segment_transition_chart(matrix.fillna(0)).to_dict()["layer"]
    with pytest.raises(ValidationError, match="available: click_rate"):
        segment_performance_chart(performance, metric="opens")


def test_cluster_and_score_charts(synthetic_features) -> None:
    clusterer = SegmentClusterer(3).fit(synthetic_features.iloc[:300])
    spec = cluster_profile_chart(clusterer.profiles_, clusterer.names_).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert len(values) == 3 * len(clusterer.features)
    hist = score_distribution_chart(engagement_score(synthetic_features)).to_dict()
    assert hist["encoding"]["x"]["bin"]["maxbins"] == 20
    with pytest.raises(ValidationError, match="profiles_"):
        cluster_profile_chart(synthetic_features)
