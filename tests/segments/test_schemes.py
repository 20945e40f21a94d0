"""Built-in schemes on hand-built frames and against raw synthetic events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.segments import engagement_tiers, lifecycle_stages, rfm_scores, segment_members

from .conftest import AS_OF


def test_engagement_tiers_by_priority(features: pd.DataFrame) -> None:
    tiers = engagement_tiers(features)
    assert tiers.to_dict() == {
        "a": "highly_engaged",
        "b": "moderately_engaged",  # opens >= 50 % but clicks < 10 %
        "c": "moderately_engaged",
        "d": "low",
        "e": "inactive",  # never opened
        "f": "inactive",  # great rates but no open for 120 days: inactive comes first
    }
    assert engagement_tiers(features, inactive_days=200)["f"] == "highly_engaged"


def test_engagement_parameters_are_checked(features: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="high_open_rate must be a share"):
        engagement_tiers(features, high_open_rate=50)
    with pytest.raises(ValidationError, match="open_rate_30d"):
        engagement_tiers(features, window=30)


def test_rfm_quintiles_and_groups() -> None:
    n = 10
    frame = pd.DataFrame(
        {
            "days_since_last_purchase": np.arange(1.0, n + 1),  # a most recent
            "purchase_count_365d": np.arange(n, 0, -1),  # a most frequent
            "revenue_365d": np.arange(n, 0, -1) * 10.0,
        },
        index=[f"s{i}" for i in range(n)],
    )
    frame.loc["none"] = [np.nan, 0, 0.0]
    rfm = rfm_scores(frame)
    assert rfm["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0]
    assert rfm["f_score"].tolist() == rfm["r_score"].tolist()
    assert rfm.loc["s0", "rfm_score"] == 555 and rfm.loc["none", "rfm_score"] == 0
    assert rfm["rfm_group"].tolist() == [
        "champions", "champions", "loyal", "loyal", "need_attention", "need_attention",
        "hibernating", "hibernating", "hibernating", "hibernating", "no_purchase",
    ]


def test_rfm_tells_lapsed_buyers_from_never_buyers() -> None:
    """Issue 18 item 10: a customer who bought 400 days ago is not "no_purchase"."""
    frame = pd.DataFrame({"days_since_last_purchase": [10.0, 400.0, np.nan],
                          "purchase_count_365d": [2, 0, 0], "revenue_365d": [50.0, 0.0, 0.0]},
                         index=["recent", "old", "never"])
    groups = rfm_scores(frame)["rfm_group"]
    assert groups["old"] == "lapsed" and groups["never"] == "no_purchase"
    assert rfm_scores(frame).loc["old", "rfm_score"] == 0


def test_rfm_ties_share_a_score() -> None:
    frame = pd.DataFrame({"days_since_last_purchase": [5.0] * 6, "purchase_count_365d": [1] * 6,
                          "revenue_365d": [1.0, 2, 3, 4, 5, 6]})
    rfm = rfm_scores(frame)
    assert rfm["r_score"].nunique() == 1 and rfm["f_score"].nunique() == 1


def test_lifecycle_stages(features: pd.DataFrame) -> None:
    stages = lifecycle_stages(features)
    assert stages.to_dict() == {
        "a": "active", "b": "active", "c": "new", "d": "churned", "e": "new", "f": "at_risk",
    }


def test_scheme_members_and_unknown_name(features: pd.DataFrame) -> None:
    assert list(segment_members(features, "engagement:inactive")) == ["e", "f"]
    assert list(segment_members(features, "rfm:no_purchase")) == ["c", "d", "e"]
    assert list(segment_members(features, "rfm:lapsed")) == ["f"]  # bought, but not in the 365 days
    with pytest.raises(ValidationError, match=r"unknown segment 'engagement:inactiv'; did you mean "
                                              r"'engagement:inactive'\? valid: engagement:inactive"):
        segment_members(features, "engagement:inactiv")


def _tiers_from_raw_events(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Independent pandas computation of the tiers straight from the generator's events."""
    events = events[events["ts"] <= as_of]
    start = as_of - pd.Timedelta(days=90)
    window = events[events["ts"] > start]
    sends = window[window["event_type"] == "send"].groupby("subscriber_id").size()
    human_opens = events[(events["event_type"] == "open") & ~events["machine_open"]]
    opened = (human_opens[human_opens["ts"] > start].groupby("subscriber_id")["campaign_id"].nunique())
    clicked = window[window["event_type"] == "click"].groupby("subscriber_id")["campaign_id"].nunique()
    last_open = human_opens.groupby("subscriber_id")["ts"].max()
    ids = events["subscriber_id"].unique()
    frame = pd.DataFrame(index=pd.Index(ids, name="subscriber_id"))
    frame["sends"] = sends.reindex(frame.index).fillna(0)
    open_rate = opened.reindex(frame.index).fillna(0) / frame["sends"].where(frame["sends"] > 0)
    click_rate = clicked.reindex(frame.index).fillna(0) / frame["sends"].where(frame["sends"] > 0)
    days = (as_of - last_open.reindex(frame.index)).dt.total_seconds() / 86400
    tier = np.select(
        [~(days < 90), (open_rate >= 0.5) & (click_rate >= 0.1), (open_rate >= 0.2) & (click_rate >= 0.02)],
        ["inactive", "highly_engaged", "moderately_engaged"], default="low",
    )
    return pd.Series(tier, index=frame.index)


def test_tiers_match_raw_event_truth(synthetic_data, synthetic_features) -> None:
    tiers = engagement_tiers(synthetic_features)
    expected = _tiers_from_raw_events(synthetic_data.events, AS_OF)
    common = expected.index.intersection(tiers.index)
    assert len(common) > 1000
    assert (tiers.loc[common].astype(str) == expected.loc[common]).all()
    # subscribers without any event are inactive (never opened)
    assert (tiers.drop(common).astype(str) == "inactive").all()
    # the tiers order the planted open probabilities
    truth = synthetic_data.truth.subscribers["open_prob"]
    means = truth.groupby(tiers.reindex(truth.index)).mean()
    assert means["highly_engaged"] > means["moderately_engaged"] > means["low"]
