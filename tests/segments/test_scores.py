"""Behavioural scores: exact value on a hand frame, bounds, monotonicity, planted personas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.segments import (
    ENGAGEMENT_WEIGHTS,
    decayed_event_counts,
    engagement_score,
    parse_rules,
    purchase_intent_score,
)

STEMS = ["human_opens", "clicks", "web_visits", "pricing_page_visits", "product_views", "cart_adds",
         "purchase_count", "cart_abandonments"]


def _frame(per_window: dict[int, list[float]]) -> pd.DataFrame:
    frame = pd.DataFrame({f"{s}_{w}d": v for s in STEMS for w, v in per_window.items()})
    frame["days_since_last_purchase"] = np.nan
    return frame


def test_engagement_score_exact_value() -> None:
    # one human open 10 days ago -> band (0, 30], midpoint 15 days, half-life 30
    frame = pd.DataFrame({f"{s}_{w}d": [0.0] for s in STEMS for w in (30, 90, 365)})
    frame[["human_opens_30d", "human_opens_90d", "human_opens_365d"]] = 1.0
    raw = 1.0 * 0.5 ** (15 / 30)
    assert engagement_score(frame).iloc[0] == pytest.approx(100 * (1 - np.exp(-raw / 10)))
    # the same open 200 days ago sits in (90, 365], midpoint 227.5 days
    frame[["human_opens_30d", "human_opens_90d"]] = 0.0
    old = 1.0 * 0.5 ** (227.5 / 30)
    assert engagement_score(frame).iloc[0] == pytest.approx(100 * (1 - np.exp(-old / 10)))


def test_scores_bounded_and_monotone() -> None:
    frame = _frame({30: [0, 1, 5, 50], 90: [0, 2, 8, 80], 365: [0, 3, 9, 90]})
    for score in (engagement_score(frame), purchase_intent_score(frame)):
        assert score.iloc[0] == 0 and (score.diff().dropna() > 0).all() and (score <= 100).all()
    frame.loc[0, "days_since_last_purchase"] = 1.0
    assert purchase_intent_score(frame).iloc[0] > 0
    with pytest.raises(ValidationError, match="half_life_days"):
        engagement_score(frame, half_life_days=0)


def test_scores_follow_personas_and_work_in_rules(synthetic_data, synthetic_features) -> None:
    score = engagement_score(synthetic_features)
    persona = synthetic_data.truth.subscribers["persona"].reindex(score.index)
    means = score.groupby(persona).mean()
    assert means["champions"] > means["occasional"] > means["dormant"]
    enriched = synthetic_features.assign(engagement_score=score)
    rules = parse_rules({"segments": [{"name": "fans", "where": "engagement_score >= 80"}]})
    assert rules.evaluate(enriched)["fans"].sum() == (score >= 80).sum() > 0


AS_OF = pd.Timestamp("2024-06-30 12:00", tz="UTC")
#: (subscriber, event type, age in days, machine open)
HAND_EVENTS = [
    ("a", "open", 0.5, False), ("a", "open", 10.0, False), ("a", "open", 3.0, True),
    ("a", "click", 45.25, False), ("a", "purchase", 400.0, False), ("a", "web_visit", 2.0, False),
    ("b", "cart_add", 1.0, False), ("b", "product_view", 90.0, False), ("b", "send", 1.0, False),
    ("b", "open", -2.0, False),  # after as_of: ignored
    ("c", "send", 5.0, False),  # nothing that counts
]


def _hand_events() -> pd.DataFrame:
    return pd.DataFrame({
        "subscriber_id": [r[0] for r in HAND_EVENTS],
        "event_type": [r[1] for r in HAND_EVENTS],
        "ts": [AS_OF - pd.Timedelta(days=r[2]) for r in HAND_EVENTS],
        "machine_open": [r[3] for r in HAND_EVENTS],
    })


def _direct_score(subscriber: str, half_life: float, scale: float) -> float:
    """The definition, one event at a time with numpy scalars."""
    stem = {"open": "human_opens", "click": "clicks", "web_visit": "web_visits",
            "product_view": "product_views", "cart_add": "cart_adds", "purchase": "purchase_count"}
    total = 0.0
    for who, kind, age, machine in HAND_EVENTS:
        if who == subscriber and kind in stem and age >= 0 and not machine:
            total += ENGAGEMENT_WEIGHTS[stem[kind]] * np.power(0.5, age / half_life)
    return float(100 * (1 - np.exp(-total / scale)))


@pytest.mark.parametrize("half_life", [7.0, 30.0, 180.0])
def test_engagement_score_exact_decay_matches_direct_numpy(half_life: float) -> None:
    features = pd.DataFrame(index=pd.Index(["a", "b", "c", "d"], name="subscriber_id"))
    score = engagement_score(features, events=_hand_events(), as_of=AS_OF,
                             half_life_days=half_life, scale=4.0)
    expected = [_direct_score(s, half_life, 4.0) for s in features.index]
    np.testing.assert_allclose(score.to_numpy(), expected, rtol=1e-12)
    assert score["c"] == score["d"] == 0.0
    # the 400-day-old purchase still counts (no window cut-off), with weight 5 * 0.5**(400/hl)
    counts = decayed_event_counts(_hand_events(), AS_OF, half_life_days=half_life)
    assert counts.loc["a", "purchase_count"] == pytest.approx(0.5 ** (400 / half_life))
    assert counts.loc["a", "human_opens"] == pytest.approx(0.5 ** (0.5 / half_life)
                                                           + 0.5 ** (10 / half_life))


def test_exact_decay_reads_as_of_from_features_and_checks_inputs() -> None:
    features = pd.DataFrame(index=pd.Index(["a", "b"], name="subscriber_id"))
    features.attrs["as_of"] = AS_OF.isoformat()
    explicit = engagement_score(features, events=_hand_events(), as_of=AS_OF)
    pd.testing.assert_series_equal(engagement_score(features, events=_hand_events()), explicit)
    features.attrs.clear()
    with pytest.raises(ValidationError, match="needs as_of"):
        engagement_score(features, events=_hand_events())
    with pytest.raises(ValidationError, match="unknown event stem 'clickz'; did you mean 'clicks'"):
        engagement_score(features, events=_hand_events(), as_of=AS_OF, weights={"clickz": 1.0})
    with pytest.raises(ValidationError, match="half_life_days"):
        engagement_score(features, events=_hand_events(), as_of=AS_OF, half_life_days=-1)


def test_exact_decay_on_synthetic_data_follows_personas(synthetic_data, synthetic_features) -> None:
    events = synthetic_data.events
    score = engagement_score(synthetic_features, events=events)
    persona = synthetic_data.truth.subscribers["persona"].reindex(score.index)
    means = score.groupby(persona).mean()
    assert means["champions"] > means["occasional"] > means["dormant"]
    # the band approximation is close to the exact score, not equal to it
    approx = engagement_score(synthetic_features)
    assert np.corrcoef(score, approx)[0, 1] > 0.9
    assert not np.allclose(score, approx)


def test_pricing_page_visits_raise_intent() -> None:
    frame = _frame({30: [0, 0], 90: [0, 0], 365: [0, 0]})
    frame.loc[1, ["pricing_page_visits_30d", "pricing_page_visits_90d",
                  "pricing_page_visits_365d"]] = 2
    score = purchase_intent_score(frame)
    raw = 3.0 * 2 * 0.5 ** (15 / 7)  # weight 3, band (0, 30] midpoint 15 days, half-life 7
    assert score.iloc[0] == 0
    assert score.iloc[1] == pytest.approx(100 * (1 - np.exp(-raw / 5)))
    with pytest.raises(ValidationError, match="pricing_page_visits_30d"):
        purchase_intent_score(frame.drop(columns="pricing_page_visits_30d"))


def test_planted_pricing_visits_precede_purchases(synthetic_data, synthetic_features) -> None:
    """The generator sends buyers to the pricing page before purchases: it shows in intent."""
    f = synthetic_features
    visitors = f["pricing_page_visits_365d"] > 0
    assert visitors.mean() > 0.05
    assert f.loc[visitors, "purchase_count_365d"].mean() > f.loc[~visitors, "purchase_count_365d"].mean()
