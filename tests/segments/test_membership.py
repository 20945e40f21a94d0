"""Membership over time from real feature snapshots: transitions, joined/left, size trend."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.segments import (
    engagement_tiers,
    membership_history,
    membership_snapshots,
    parse_rules,
)

from .conftest import AS_OF


@pytest.fixture(scope="module")
def history(synthetic_data, synthetic_features):
    from segkit.features import compute

    earlier = AS_OF - pd.Timedelta(days=120)
    tables = {"events": synthetic_data.events, "subscribers": synthetic_data.subscribers}
    return membership_history({
        earlier: engagement_tiers(compute(tables, earlier)),
        AS_OF: engagement_tiers(synthetic_features),
    })


def test_transitions_count_everyone_in_both_once(history) -> None:
    labels = history.to_frame()
    both = labels.dropna()
    matrix = history.transitions()
    assert matrix.to_numpy().sum() == len(both)
    assert matrix.sum(axis=1).to_dict() == both.iloc[:, 0].value_counts().to_dict()
    assert matrix.sum(axis=0).to_dict() == both.iloc[:, 1].value_counts().to_dict()
    stayed = (both.iloc[:, 0] == both.iloc[:, 1]).sum()
    assert sum(matrix.loc[k, k] for k in matrix.index if k in matrix.columns) == stayed


def test_joined_and_left_balance_sizes(history) -> None:
    changes = history.changes()
    trend = history.size_trend()
    delta = trend.iloc[1] - trend.iloc[0]
    joined = changes[changes["change"] == "joined"].groupby("segment").size()
    left = changes[changes["change"] == "left"].groupby("segment").size()
    net = joined.reindex(delta.index, fill_value=0) - left.reindex(delta.index, fill_value=0)
    assert net.to_dict() == delta.to_dict()
    # newcomers (absent at the first snapshot) only join
    new_ids = history.to_frame().index[history.to_frame().iloc[:, 0].isna()]
    assert set(changes.loc[changes["subscriber_id"].isin(new_ids), "change"]) <= {"joined"}


def test_history_errors(history) -> None:
    with pytest.raises(ValidationError, match="no previous one"):
        history.transitions(end=history.dates[0])
    with pytest.raises(ValidationError, match="time-zone aware"):
        membership_history({"2024-01-01": pd.Series(["a"], index=["x"])})


@pytest.fixture(scope="module")
def snapshots(synthetic_data):
    dates = [AS_OF - pd.Timedelta(days=d) for d in (180, 90, 0)]
    return membership_snapshots(synthetic_data.events, synthetic_data.subscribers, dates,
                                scheme="engagement")


def test_snapshots_match_a_manual_loop(snapshots, synthetic_data, synthetic_features) -> None:
    from segkit.features import compute

    assert snapshots.dates == [AS_OF - pd.Timedelta(days=d) for d in (180, 90, 0)]
    last = snapshots.to_frame()[AS_OF].dropna()
    pd.testing.assert_series_equal(last.astype(str), engagement_tiers(synthetic_features).astype(str),
                                   check_names=False)
    tables = {"events": synthetic_data.events, "subscribers": synthetic_data.subscribers}
    middle = AS_OF - pd.Timedelta(days=90)
    expected = engagement_tiers(compute(tables, middle)).astype(str)
    got = snapshots.to_frame()[middle].dropna().astype(str)
    pd.testing.assert_series_equal(got, expected, check_names=False)


@pytest.mark.parametrize("pair", [(0, 1), (1, 2), (0, 2)])
def test_snapshot_transitions_count_everyone_in_both_once(snapshots, pair) -> None:
    start, end = (snapshots.dates[i] for i in pair)
    labels = snapshots.to_frame()[[start, end]]
    both = labels.dropna()
    matrix = snapshots.transitions(start, end)
    assert matrix.to_numpy().sum() == len(both)
    assert both.index.is_unique
    assert matrix.sum(axis=1).to_dict() == both[start].value_counts().to_dict()
    assert matrix.sum(axis=0).to_dict() == both[end].value_counts().to_dict()
    # the list grows (new signups), so later snapshots hold more subscribers
    assert labels[end].notna().sum() >= labels[start].notna().sum()


def test_snapshots_from_rules(synthetic_data) -> None:
    rules = parse_rules({"segments": [
        {"name": "buyers", "where": "purchase_count_365d >= 1"},
        {"name": "openers", "where": "open_rate_90d >= 0.3"},
    ]})
    history = membership_snapshots(synthetic_data.events, synthetic_data.subscribers,
                                   [AS_OF - pd.Timedelta(days=60), AS_OF], rules=rules)
    assert set(history.size_trend().columns) <= {"buyers", "openers", "unassigned"}
    assert history.transitions().to_numpy().sum() == len(history.to_frame().dropna())


def test_snapshot_argument_errors(synthetic_data) -> None:
    events, subs = synthetic_data.events, synthetic_data.subscribers
    with pytest.raises(ValidationError, match="exactly one of scheme"):
        membership_snapshots(events, subs, [AS_OF])
    with pytest.raises(ValidationError, match="unknown scheme 'engagment'; did you mean"):
        membership_snapshots(events, subs, [AS_OF], scheme="engagment")
    with pytest.raises(ValidationError, match="repeat"):
        membership_snapshots(events, subs, [AS_OF, AS_OF], scheme="rfm")
    with pytest.raises(ValidationError, match="at least one date"):
        membership_snapshots(events, subs, [], scheme="rfm")
