"""Churn labels on a hand-built event log, and every refusal."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.churn import churn_labels
from segkit.errors import InputError, ValidationError

AS_OF = pd.Timestamp("2024-03-01", tz="UTC")


def _events(rows: list[tuple[str, str, str, bool]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["subscriber_id", "event_type", "ts", "machine_open"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


EVENTS = _events([
    ("a", "open", "2024-02-20", False),      # active, engages after: stays
    ("a", "click", "2024-03-10", False),
    ("b", "purchase", "2024-02-01", False),  # active, silent after: churned
    ("b", "send", "2024-03-05", False),      # a send is not engagement
    ("c", "open", "2024-02-25", False),      # active; only a machine open after: churned
    ("c", "open", "2024-03-05", True),
    ("d", "open", "2023-06-01", False),      # engaged only before the lookback: outside
    ("d", "open", "2024-03-15", False),
    ("e", "open", "2024-02-27", True),       # only a machine open in the lookback: not listed
    ("f", "open", "2024-03-01", False),      # exactly at as_of: in the lookback
    ("f", "open", "2024-05-30", False),      # exactly at as_of + 90 days: in the label window
    ("g", "click", "2024-01-01", False),
    ("g", "open", "2024-05-31", False),      # just after the label window: churned
    ("z", "send", "2024-07-01", False),      # the data run to here
])  # fmt: skip


def test_labels_follow_the_definition():
    labels = churn_labels(EVENTS, AS_OF).set_index("subscriber_id")
    assert list(labels.index) == ["a", "b", "c", "d", "f", "g"]
    assert labels["active_in_lookback"].to_dict() == {
        "a": True, "b": True, "c": True, "d": False, "f": True, "g": True,
    }  # fmt: skip
    churned = labels["churned"]
    assert churned.dtype == "boolean"
    assert churned[["a", "b", "c", "f", "g"]].tolist() == [False, True, True, False, True]
    assert pd.isna(churned["d"])
    assert labels.attrs["horizon_days"] == 90 and labels.attrs["lookback_days"] == 180


def test_event_types_and_windows_are_parameters():
    labels = churn_labels(EVENTS, AS_OF, event_types=("open",), lookback_days=400)
    by_id = labels.set_index("subscriber_id")["churned"]
    assert by_id["a"]  # a's only later engagement is a click
    assert not by_id["d"]  # d is now in the (longer) lookback and opened later
    short = churn_labels(EVENTS, AS_OF, horizon_days=10).set_index("subscriber_id")["churned"]
    assert not short["a"]  # a's click is 9 days after as_of: inside a 10-day window
    assert short["f"]  # f's next open is 90 days later: outside it
    assert "g" not in by_id.index  # g never opened before as_of (only clicked)


def test_machine_opens_without_the_column_count_as_opens():
    plain = EVENTS.drop(columns="machine_open")
    labels = churn_labels(plain, AS_OF).set_index("subscriber_id")
    assert not labels.loc["c", "churned"]  # the machine open now counts
    assert "e" in labels.index


@pytest.mark.parametrize(
    ("as_of", "match"),
    [
        ("2023-01-01T00:00Z", "before the first event"),
        ("2024-05-01T00:00Z", "label window"),
    ],
)
def test_as_of_outside_the_observed_range_is_refused(as_of, match):
    with pytest.raises(ValidationError, match=match):
        churn_labels(EVENTS, as_of)


def test_bad_arguments_are_named():
    with pytest.raises(ValidationError, match="time-zone"):
        churn_labels(EVENTS, "2024-03-01")
    with pytest.raises(ValidationError, match="valid: send"):
        churn_labels(EVENTS, AS_OF, event_types=("opn",))
    with pytest.raises(ValidationError, match="horizon_days"):
        churn_labels(EVENTS, AS_OF, horizon_days=0)
    with pytest.raises(InputError, match="missing required column"):
        churn_labels(EVENTS.drop(columns="ts"), AS_OF)
    with pytest.raises(InputError, match="empty"):
        churn_labels(EVENTS.iloc[:0], AS_OF)
    naive = EVENTS.assign(ts=EVENTS["ts"].dt.tz_localize(None))
    with pytest.raises(ValidationError, match="time-zone-aware"):
        churn_labels(naive, AS_OF)
