"""Demo-size checks (about 10 s of generation): run with ``pytest -m slow tests/datasets``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.datasets import synthetic

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo():
    return synthetic(20_000, 0)


def test_demo_size_is_realistic(demo):
    assert 1_800_000 < len(demo.events) < 3_000_000
    assert demo.events["event_id"].is_unique


def test_personas_are_recoverable_by_clustering(demo):
    """KMeans on plain engagement/purchase features recovers the planted personas (ARI >= 0.7)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    truth = demo.truth
    events = demo.events[~demo.events["event_id"].isin(truth.machine_open_event_ids)]
    counts = (
        pd.crosstab(events["subscriber_id"], events["event_type"])
        .reindex(truth.subscribers.index)
        .fillna(0)
    )
    last_open = events[events["event_type"] == "open"].groupby("subscriber_id")["ts"].max()
    signup = demo.subscribers.set_index("subscriber_id")["signup_at"]
    features = pd.DataFrame(
        {
            "open_rate": counts["open"] / counts["send"].clip(lower=1),
            "click_rate": counts["click"] / counts["send"].clip(lower=1),
            "purchases": np.log1p(counts["purchase"]),
            "web_visits": np.log1p(counts["web_visit"]),
            "tenure": np.log1p((truth.end - signup).dt.days),
            "days_since_open": np.log1p(
                (truth.end - last_open.reindex(counts.index)).dt.days.fillna(400)
            ),
        }
    )
    labels = KMeans(5, n_init=10, random_state=0).fit_predict(
        StandardScaler().fit_transform(features)
    )
    assert adjusted_rand_score(truth.subscribers["persona"], labels) >= 0.7


def test_experiment_lifts_show_in_every_planted_direction(demo):
    exp = demo.truth.experiment
    arm_of = {cid: arm for arm, cid in exp.campaign_ids.items()}
    events = demo.events[demo.events["campaign_id"].isin(arm_of)]
    human = events[
        (events["event_type"] == "open")
        & ~events["event_id"].isin(demo.truth.machine_open_event_ids)
    ]
    frame = demo.assignments.set_index("subscriber_id")[["arm"]]
    frame["human_open"] = frame.index.isin(human["subscriber_id"])
    frame["click"] = frame.index.isin(events.loc[events["event_type"] == "click", "subscriber_id"])
    frame["conversion"] = frame.index.isin(
        events.loc[events["event_type"] == "purchase", "subscriber_id"]
    )
    means = frame.groupby("arm").mean()
    lifts = exp.lifts.set_index(["arm", "metric"])["abs_lift"]
    for arm in ("subject_line", "offer"):
        for metric in ("human_open", "click", "conversion"):
            observed = means.loc[arm, metric] - means.loc["control", metric]
            if lifts[arm, metric] > 0:
                assert observed > 0, (arm, metric)
            else:
                assert abs(observed) < 0.02, (arm, metric)
