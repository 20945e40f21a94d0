"""FeatureTimeline: the same table as ``compute`` at every as-of date, from one read.

``compute`` (SQL over the events) is the reference: the timeline answers from sorted arrays, so
the dates include every event time, one microsecond before it, window edges exactly 30/90/365
days after events, DST changes, dates before the first and after the last event.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from feature_data import (
    EVENT_ROWS,
    SUBSCRIBER_ROWS,
    load_feature_bench,
    make_events,
    make_subscribers,
)

from segkit.errors import ValidationError
from segkit.features import FeatureTimeline, compute


def _assert_same(timeline: FeatureTimeline, source, as_of, **options) -> None:
    expected = compute(source, as_of, **options)
    got = timeline.at(as_of)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=0)
    assert got.attrs == expected.attrs


def _edge_dates(events: pd.DataFrame) -> list[pd.Timestamp]:
    """Every event time, a microsecond before it, and its 30/90/365-day window edges."""
    times = pd.DatetimeIndex(events["ts"].drop_duplicates())
    one = pd.Timedelta(microseconds=1)
    edges = [times, times - one]
    edges += [times + pd.Timedelta(days=w) for w in (30, 90, 365)]
    return sorted(set().union(*edges))


@pytest.fixture(scope="module")
def hand_built() -> dict[str, pd.DataFrame]:
    return {"events": make_events(EVENT_ROWS), "subscribers": make_subscribers(SUBSCRIBER_ROWS)}


def test_equals_compute_at_event_times_and_window_edges(hand_built):
    timeline = FeatureTimeline(hand_built)
    dates = _edge_dates(hand_built["events"])[::2]  # every other one: each compute costs 0.2 s
    dates += [pd.Timestamp(d, tz="UTC") for d in ("2020-01-01", "2024-03-10 07:00", "2030-01-01")]
    for as_of in dates:
        _assert_same(timeline, hand_built, as_of)


@pytest.mark.parametrize(
    ("windows", "hours", "unit"), [((7, 60), 2.5, "W"), ((1,), 48, "D"), ((30, 90, 365), 0.5, "D")]
)
def test_equals_compute_with_other_options(hand_built, windows, hours, unit):
    options = {"windows": windows, "cart_abandon_hours": hours, "rfm_unit": unit}
    timeline = FeatureTimeline(hand_built, **options)
    for as_of in _edge_dates(hand_built["events"])[1::9]:
        _assert_same(timeline, hand_built, as_of, **options)


def test_a_cart_deadline_with_a_fraction_of_a_microsecond():
    """1/7 hour is 514,285,714.3 microseconds: the deadline is cut, as compute cuts it."""
    events = make_events([("a", "cart_add", "2024-06-01 00:00", None, None, False)])
    options = {"windows": (30,), "cart_abandon_hours": 1 / 7}
    timeline = FeatureTimeline({"events": events}, **options)
    start = pd.Timestamp("2024-06-01", tz="UTC")
    for micros in (514_285_713, 514_285_714, 514_285_715):
        _assert_same(timeline, {"events": events}, start + pd.Timedelta(microseconds=micros), **options)


def test_equals_compute_without_a_subscribers_table(hand_built):
    events_only = {"events": hand_built["events"]}
    timeline = FeatureTimeline(events_only)
    for as_of in _edge_dates(hand_built["events"])[1::6]:
        _assert_same(timeline, events_only, as_of)


def test_without_any_events(hand_built):
    source = {"events": hand_built["events"].iloc[:0], "subscribers": hand_built["subscribers"]}
    timeline = FeatureTimeline(source)
    for as_of in ("2020-01-01", "2024-06-30"):
        _assert_same(timeline, source, pd.Timestamp(as_of, tz="UTC"))


@pytest.fixture(scope="module")
def random_data():
    """The feature benchmark's random data: skewed activity, machine opens, purchases without
    values, subscribers without time zones, half-hour zones, pricing pages, cart adds."""
    events, subscribers = load_feature_bench().generate(30_000, 1_500, seed=11)
    return {"events": events, "subscribers": subscribers}


def test_equals_compute_on_random_data_at_random_times(random_data):
    timeline = FeatureTimeline(random_data)
    rng = np.random.default_rng(3)
    first, last = random_data["events"]["ts"].min(), random_data["events"]["ts"].max()
    span = (last - first).total_seconds()
    dates = [(first + pd.Timedelta(seconds=float(s))).floor("us") for s in rng.uniform(0, span * 1.1, 5)]
    for as_of in [*dates, last]:
        _assert_same(timeline, random_data, as_of)


def test_a_workspace_source(tmp_path, hand_built):
    from segkit.io import Workspace

    with Workspace(tmp_path / "ws.duckdb") as workspace:
        workspace.ingest("subscribers", hand_built["subscribers"])
        workspace.ingest("events", hand_built["events"])
        timeline = FeatureTimeline(workspace)
        _assert_same(timeline, workspace, pd.Timestamp("2024-06-30", tz="UTC"))


def test_the_read_lock_is_held_while_reading_only(hand_built):
    entered: list[str] = []

    class Lock:
        def __enter__(self):
            entered.append("enter")

        def __exit__(self, *exc):
            entered.append("exit")

    FeatureTimeline(hand_built, read_lock=Lock())
    assert entered == ["enter", "exit"]


def test_refuses_what_compute_refuses(hand_built):
    doubled = {"events": hand_built["events"],
               "subscribers": pd.concat([hand_built["subscribers"]] * 2, ignore_index=True)}
    with pytest.raises(ValidationError, match="must be unique"):
        FeatureTimeline(doubled)
    timeline = FeatureTimeline(hand_built)
    with pytest.raises(ValidationError, match="time-zone"):
        timeline.at("2024-06-30")
    with pytest.raises(ValidationError, match="windows"):
        FeatureTimeline(hand_built, windows=(0,))


def test_the_comparison_can_fail(hand_built):
    """A timeline of fewer events must differ from compute over all of them."""
    fewer = {"events": hand_built["events"].iloc[1:], "subscribers": hand_built["subscribers"]}
    with pytest.raises(AssertionError):
        _assert_same(FeatureTimeline(fewer), hand_built, pd.Timestamp("2024-06-30", tz="UTC"))
