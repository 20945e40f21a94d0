"""Membership over time from real feature snapshots: transitions, joined/left, size trend."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.segments import engagement_tiers, membership_history

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
