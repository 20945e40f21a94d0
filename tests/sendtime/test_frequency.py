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

from ._helpers import make_events


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


# --- per-subscriber caps -------------------------------------------------------------------

def _fatiguing_subscriber(rng, sub_id, weeks, cap, p_ok, p_tired, start="2024-01-01"):
    """Random 1-7 sends a week; each send opened with p_ok while the 7-day volume <= cap."""
    days = [w * 7 + d for w in range(weeks) for d in np.sort(rng.choice(7, rng.integers(1, 8), replace=False))]
    sent = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(np.array(days), unit="D") + pd.Timedelta(hours=9)
    rows = []
    for j, when in enumerate(sent):
        load = int(((sent[: j + 1]) > when - pd.Timedelta(days=7)).sum())
        rows.append((sub_id, "send", when))
        if rng.random() < (p_ok if load <= cap else p_tired):
            rows.append((sub_id, "open", when + pd.Timedelta(hours=1)))
    return rows


@pytest.fixture(scope="module")
def hand_built():
    rng = np.random.default_rng(8)
    rows = []
    for i in range(60):  # the segment tolerates 5 a week
        rows += _fatiguing_subscriber(rng, f"s{i:02d}", 30, cap=5, p_ok=0.55, p_tired=0.15)
    rows += _fatiguing_subscriber(rng, "heavy", 60, cap=2, p_ok=0.9, p_tired=0.1)
    for i in range(5):  # thin: a handful of sends, all at low volume
        rows += _fatiguing_subscriber(rng, f"thin{i}", 2, cap=2, p_ok=0.9, p_tired=0.1)
    out = frequency.analyze({"events": make_events(rows)}, as_of="2025-06-01")
    return out, out.subscribers.set_index("subscriber_id")


def test_heavy_subscriber_gets_personal_cap(hand_built):
    out, subs = hand_built
    assert out.caps["recommended_weekly_cap"].iloc[0] == 5
    heavy = subs.loc["heavy"]
    assert heavy["cap_source"] == "personal"
    assert abs(heavy["recommended_weekly_cap"] - 2) <= 1
    assert heavy["personal_n_below"] >= 8 and heavy["personal_n_above"] >= 8
    assert heavy["bayes_factor"] >= 3
    assert heavy["shrunk_open_rate_above"] < heavy["shrunk_open_rate_below"]
    assert 0 < heavy["shrinkage_weight_below"] < 1 and 0 < heavy["shrinkage_weight_above"] < 1


def test_thin_subscribers_keep_segment_cap(hand_built):
    out, subs = hand_built
    thin = subs.loc[[f"thin{i}" for i in range(5)]]
    assert (thin["cap_source"] == "segment").all()
    assert (thin["recommended_weekly_cap"] == out.caps["recommended_weekly_cap"].iloc[0]).all()
    segment_rows = subs[subs["cap_source"] == "segment"]
    assert (segment_rows["recommended_weekly_cap"] == 5).all()


def test_personal_caps_near_planted_truth(result, synth):
    subs = result.subscribers
    assert set(subs["cap_source"]) <= {"personal", "segment"}
    personal = subs[subs["cap_source"] == "personal"]
    assert len(personal) >= 20
    assert (personal["personal_n_below"] >= 8).all() and (personal["personal_n_above"] >= 8).all()
    assert (personal["human_opens"] >= 5).all() and (personal["bayes_factor"] >= 3).all()
    within = (personal["recommended_weekly_cap"] - synth.truth.fatigue_weekly_cap).abs() <= 1
    assert within.mean() >= 0.75


def test_a_step_with_no_events_on_one_side_gives_an_unbounded_interval_without_a_warning():
    """Separation (every unsubscribe at high volume, none below): the step's standard error is
    huge, so the upper interval end is infinite; no overflow RuntimeWarning reaches the report."""
    import warnings

    from segkit.sendtime._fatigue import change_point

    volume = np.repeat(np.arange(1, 9), 40)
    seg = pd.DataFrame({"engagement": "active", "volume_7d": volume, "n": 1,
                        "unsubscribe": ((volume > 4) & (np.arange(len(volume)) % 4 == 0)).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = change_point(seg, "unsubscribe", 0.05)
    assert out["rate_ratio"] > 1e6 and out["ci_high"] == np.inf and out["p_value"] < 0.05
