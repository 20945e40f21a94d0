"""segkit's synthetic experiment (planted lifts): the true lifts lie inside the intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.datasets import synthetic
from segkit.stats import analyze

METRICS = ["open", "human_open", "click", "conversion", "revenue"]


def recipients(data) -> pd.DataFrame:
    """One row per experiment recipient with its outcomes, built from the raw events here."""
    exp = data.truth.experiment
    campaign_arm = {c: a for a, c in exp.campaign_ids.items()}
    events = data.events[data.events["campaign_id"].isin(campaign_arm)]
    sends = events[events.event_type == "send"][["subscriber_id", "campaign_id"]].drop_duplicates()
    units = sends.assign(arm=sends.campaign_id.map(campaign_arm)).set_index("subscriber_id")
    opens = events[events.event_type == "open"]
    machine = opens.event_id.isin(data.truth.machine_open_event_ids)
    purchases = events[events.event_type == "purchase"]

    def has(frame):
        return units.index.isin(frame.subscriber_id).astype(int)

    units["open"] = has(opens)
    units["human_open"] = has(opens[~machine])
    units["machine_open"] = (units["open"] == 1) & (units["human_open"] == 0)
    units["click"] = has(events[events.event_type == "click"])
    units["conversion"] = has(purchases)
    units["revenue"] = purchases.groupby("subscriber_id")["value"].sum().reindex(units.index,
                                                                                fill_value=0.0)
    return units.reset_index()


@pytest.fixture(scope="module")
def data():
    return synthetic(5000, seed=3)


def test_true_lifts_lie_inside_simultaneous_intervals(data):
    units = recipients(data)
    exp = data.truth.experiment
    family = (len(exp.arms) - 1) * len(METRICS)
    alpha = 0.05 / family  # Bonferroni: all intervals hold together with probability >= 95%
    result = analyze(units, control=exp.control, metrics=METRICS, alpha=alpha)
    frame = result.to_frame().set_index(["arm", "metric"])
    truth = exp.lifts.set_index(["arm", "metric"])
    for key, row in frame.iterrows():
        true_lift = truth.loc[key, "abs_lift"]
        assert row.abs_lift_ci_low <= true_lift <= row.abs_lift_ci_high, (key, true_lift, row)
        true_rel = truth.loc[key, "rel_lift"]
        assert row.rel_lift_ci_low <= true_rel <= row.rel_lift_ci_high, (key, true_rel)
    assert not result.srm.flagged
    assert result.primary_metric == "click"


def test_excluding_machine_opens_recovers_human_opens(data):
    units = recipients(data)
    control = data.truth.experiment.control
    human = analyze(units, control=control, metrics=["human_open"]).to_frame()
    flagged = analyze(units.assign(open_flagged=units["open"]), control=control,
                      metrics=[{"name": "human_open", "column": "open_flagged"}],
                      exclude_machine_opens=True).to_frame()
    cols = ["control_mean", "treatment_mean", "abs_lift", "p_value"]
    np.testing.assert_allclose(human[cols].to_numpy(), flagged[cols].to_numpy(), rtol=1e-12)


@pytest.mark.slow
def test_interval_coverage_across_synthetic_seeds():
    """20 synthetic programmes x 10 (arm, metric) intervals: the 95% intervals hold ~95%."""
    hits = total = 0
    for seed in range(20):
        data = synthetic(3000, seed=100 + seed)
        exp = data.truth.experiment
        frame = analyze(recipients(data), control=exp.control, metrics=METRICS,
                        mann_whitney=False).to_frame().set_index(["arm", "metric"])
        truth = exp.lifts.set_index(["arm", "metric"])["abs_lift"].reindex(frame.index)
        hits += int(((frame.abs_lift_ci_low <= truth) & (truth <= frame.abs_lift_ci_high)).sum())
        total += len(frame)
    assert 0.90 <= hits / total <= 0.99, hits / total
