"""Triggers -> audiences: cart abandonment timing, inactivity, welcome, consent filtering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.segments import trigger_audience

AS_OF = pd.Timestamp("2024-06-30", tz="UTC")


def _features(ids: list[str], since_open: list[float], tenure: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "days_since_last_open": since_open, "tenure_days": tenure,
        "revenue_365d": [0.0] * len(ids), "open_rate_30d": [np.nan] * len(ids),
        "open_rate_365d": [np.nan] * len(ids),
    }, index=pd.Index(ids, name="subscriber_id"))


def test_triggers_and_consent() -> None:
    ids = ["abandon", "bought", "too_recent", "sleepy", "fresh", "unsub_abandon"]
    events = pd.DataFrame({
        "subscriber_id": ["abandon", "bought", "bought", "too_recent", "unsub_abandon"],
        "event_type": ["cart_add", "cart_add", "purchase", "cart_add", "cart_add"],
        "ts": pd.to_datetime(["2024-06-27 10:00", "2024-06-27 10:00", "2024-06-27 20:00",
                              "2024-06-29 12:00", "2024-06-27 10:00"], utc=True),
    })
    subscribers = pd.DataFrame({
        "subscriber_id": ids, "email": [f"{i}@x.com" for i in ids], "consent": True,
        "unsubscribed_at": pd.to_datetime([None] * 5 + ["2024-06-28"], utc=True),
    })
    features = _features(ids, [1, 1, 1, 120.5, np.nan, 1], [400, 400, 400, 400, 3, 400])
    audience = trigger_audience(features, events, subscribers, AS_OF).to_frame()
    rows = {(r.subscriber_id, r.trigger): r for r in audience.itertuples()}
    assert set(rows) == {("abandon", "cart_abandonment"), ("sleepy", "inactivity"),
                         ("fresh", "new_subscriber")}
    assert rows[("abandon", "cart_abandonment")].trigger_time == pd.Timestamp("2024-06-28 10:00", tz="UTC")
    assert rows[("abandon", "cart_abandonment")].action == "cart reminder"
    assert rows[("sleepy", "inactivity")].trigger_time == AS_OF - pd.Timedelta(days=30.5)
    assert rows[("fresh", "new_subscriber")].trigger_time == AS_OF - pd.Timedelta(days=3)
    result = trigger_audience(features, events, subscribers, AS_OF)
    assert result.consent.counts["unsubscribed"] == 1  # unsub_abandon went through the gate
    with pytest.raises(ValidationError, match="open_rate_30d"):
        trigger_audience(features.drop(columns="open_rate_30d"), events, subscribers, AS_OF)


def test_synthetic_audience_is_consented(synthetic_data, synthetic_features) -> None:
    result = trigger_audience(synthetic_features, synthetic_data.events, synthetic_data.subscribers, AS_OF)
    table = result.to_frame()
    assert set(table["trigger"]) >= {"inactivity", "cart_abandonment"}
    subs = synthetic_data.subscribers.set_index("subscriber_id").loc[table["subscriber_id"]]
    assert subs["consent"].all() and not (subs["unsubscribed_at"] <= AS_OF).any()
