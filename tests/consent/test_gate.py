"""The consent gate: each exclusion reason, its priority, and the as-of boundary."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.consent import EXCLUSION_REASONS, eligible
from segkit.errors import InputError, ValidationError

AS_OF = pd.Timestamp("2024-06-30", tz="UTC")


@pytest.fixture
def subscribers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subscriber_id": ["ok", "unsub", "later", "noconsent", "nullconsent", "supp", "event_unsub"],
            "email": ["ok@x.com", "u@x.com", "l@x.com", "n@x.com", "nn@x.com", "Supp@X.com", "e@x.com"],
            "consent": pd.array([True, True, True, False, None, True, True], dtype="boolean"),
            "unsubscribed_at": pd.to_datetime(
                [None, "2024-06-30", "2024-07-01", None, None, None, None], utc=True
            ),
        }
    )


def test_each_reason_is_applied(subscribers: pd.DataFrame) -> None:
    events = pd.DataFrame({
        "subscriber_id": ["event_unsub", "ok"], "event_type": ["unsubscribe", "unsubscribe"],
        "ts": pd.to_datetime(["2024-06-01", "2024-07-02"], utc=True),  # ok's is after as_of
    })
    result = eligible([*subscribers["subscriber_id"], "ghost"], subscribers, AS_OF,
                      events=events, suppressed=["supp@x.com"])
    assert list(result.eligible) == ["ok", "later"]
    reasons = dict(zip(result.excluded["subscriber_id"], result.excluded["reason"], strict=True))
    assert reasons == {
        "unsub": "unsubscribed", "noconsent": "no_consent", "nullconsent": "no_consent",
        "supp": "suppressed", "event_unsub": "unsubscribed", "ghost": "unknown_subscriber",
    }
    assert result.counts.to_dict() == {
        "unknown_subscriber": 1, "unsubscribed": 2, "no_consent": 2, "suppressed": 1,
    }
    assert list(result.counts.index) == list(EXCLUSION_REASONS)
    assert "2 eligible" in result.summary() and "6 excluded" in result.summary()
    assert len(result.to_frame()) == 8


def test_first_reason_wins_and_ids_suppress(subscribers: pd.DataFrame) -> None:
    result = eligible(["unsub", "ok"], subscribers, AS_OF, suppressed=["unsub", "ok"])
    assert result.excluded["reason"].tolist() == ["unsubscribed", "suppressed"]
    assert len(result.eligible) == 0


def test_without_events_only_the_table_counts(subscribers: pd.DataFrame) -> None:
    assert "event_unsub" in eligible(["event_unsub"], subscribers, AS_OF).eligible


def test_input_checks(subscribers: pd.DataFrame) -> None:
    with pytest.raises(ValidationError, match="time-zone aware"):
        eligible(["ok"], subscribers, "2024-06-30")
    with pytest.raises(InputError, match="lacks column.*consent"):
        eligible(["ok"], subscribers.drop(columns="consent"), AS_OF)
    with pytest.raises(InputError, match="repeats subscriber_id 'ok'"):
        eligible(["ok"], pd.concat([subscribers, subscribers.iloc[:1]]), AS_OF)
