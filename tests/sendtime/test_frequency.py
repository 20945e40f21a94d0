"""segkit.sendtime.frequency: planted fatigue cap recovered; rates and flags well formed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.datasets import synthetic
from segkit.errors import ValidationError
from segkit.sendtime import frequency
from segkit.sendtime._fatigue import volume
from segkit.sendtime._inputs import prepare


@pytest.fixture(scope="module")
def result(tables):
    return frequency.analyze(tables, as_of="2025-01-01")


def test_planted_cap_recovered_within_one(result, synth):
    cap = result.caps.set_index("segment").loc["all", "recommended_weekly_cap"]
    assert abs(cap - synth.truth.fatigue_weekly_cap) <= 1
    unsub = result.evidence.set_index("metric").loc["unsubscribe"]
    assert unsub["rate_ratio"] > 2 and unsub["p_value"] < 0.05


def test_rates_frame(result):
    rates = result.rates
    assert set(rates["window_days"]) == {7, 30}
    assert set(rates["metric"]) == {"open", "click", "unsubscribe"}
    assert ((rates["ci_low"] <= rates["rate"]) & (rates["rate"] <= rates["ci_high"])).all()
    weekly_open = rates[(rates["window_days"] == 7) & (rates["metric"] == "open")].set_index("volume_from")
    # the planted open multiplier (0.75 above the cap) shows in the standardized rates
    assert weekly_open.loc[4, "rate"] < weekly_open.loc[[1, 2, 3], "rate"].min()


def test_result_object(result):
    assert "emails/7 days" in result.summary()
    assert "<table" in result._repr_html_()
    subs = result.subscribers
    assert {"subscriber_id", "fatigued", "p_adjusted", "recommended_weekly_cap"} <= set(subs.columns)
    assert subs["subscriber_id"].is_unique
    assert result.to_frame().equals(result.caps)


def test_volume_counts_trailing_window():
    ts = pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-07", "2024-01-08", "2024-01-20"], utc=True)
    events = pd.DataFrame({"subscriber_id": "a", "event_type": "send", "ts": ts, "machine_open": False})
    data = prepare({"events": events}, pd.Timestamp("2024-02-01", tz="UTC"))
    # (t - 7 days, t]: 01-08 sees 01-03, 01-07 and itself (01-01 is exactly 7 days before)
    assert list(volume(data, 7)) == [1, 2, 3, 3, 1]


def test_needs_sends():
    events = pd.DataFrame({"subscriber_id": ["a"], "event_type": ["open"],
                           "ts": pd.to_datetime(["2024-01-01"], utc=True), "machine_open": [False]})
    with pytest.raises(ValidationError, match="send"):
        frequency.analyze({"events": events}, as_of="2024-02-01")


@pytest.mark.slow
@pytest.mark.parametrize("cap", [2, 4])
def test_other_planted_caps(cap):
    data = synthetic(4000, seed=11, fatigue_weekly_cap=cap, campaigns_per_week=4.0)
    out = frequency.analyze({"events": data.events, "subscribers": data.subscribers}, as_of="2025-01-01")
    found = out.caps["recommended_weekly_cap"].iloc[0]
    assert np.isfinite(found) and abs(found - cap) <= 1
