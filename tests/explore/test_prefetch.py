"""Background prefetch of as-of dates: same numbers as computing on demand, no recomputation when a
prefetched date is picked, queued dates taken over by the foreground, clean stop."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import threading
import time

import pandas as pd
import pytest

from segkit._timestamps import decision_time
from segkit.errors import ValidationError
from segkit.explore import ExplorerData, SegmentExplorer
from segkit.explore._app import month_starts_before
from segkit.features import compute

from .conftest import AS_OF, LONG_QUERY, planted_tables


def _counting(data: ExplorerData) -> list[tuple[pd.Timestamp, str]]:
    """Record every snapshot computation (date, thread name) of ``data``."""
    calls: list[tuple[pd.Timestamp, str]] = []
    build = data._build

    def counted(stamp, **kwargs):
        calls.append((stamp, threading.current_thread().name))
        return build(stamp, **kwargs)

    data._build = counted
    return calls


def test_month_starts_before():
    """The instants a pick of each month's first day resolves to: the end of that day."""
    stamps = month_starts_before(pd.Timestamp("2024-12-31", tz="UTC"), 3)
    assert [s.date().isoformat() for s in stamps] == ["2024-12-01", "2024-11-01", "2024-10-01"]
    assert stamps == [decision_time(day) for day in ("2024-12-01", "2024-11-01", "2024-10-01")]
    assert stamps[0] == pd.Timestamp("2024-12-01 23:59:59.999999", tz="UTC")
    on_a_month_start = month_starts_before(decision_time("2024-12-01"), 1)
    assert on_a_month_start == [decision_time("2024-11-01")]
    mid_first_day = month_starts_before(pd.Timestamp("2024-12-01 12:00", tz="UTC"), 1)
    assert mid_first_day == [decision_time("2024-11-01")]  # the end of Dec 1 is not before noon
    assert month_starts_before(AS_OF, 0) == []
    with pytest.raises(ValidationError, match="prefetch_months"):
        month_starts_before(AS_OF, -1)


def test_prefetched_snapshots_equal_computed_features(planted):
    data = ExplorerData(planted_tables(planted))
    calls = _counting(data)
    dates = [pd.Timestamp("2024-11-01", tz="UTC"), pd.Timestamp("2024-09-01", tz="UTC")]
    assert data.prefetch(dates) == dates
    assert data.wait_for_prefetch(timeout=120)
    assert data.ready_dates == sorted(dates) and data.prefetch_pending == []
    assert [name for _, name in calls] == ["segkit-explorer-prefetch"] * 2
    for stamp in dates:
        expected = compute(planted_tables(planted), stamp)
        pd.testing.assert_frame_equal(data.snapshot(stamp).features[expected.columns], expected)
    assert len(calls) == 2  # served from the cache
    assert data.prefetch(dates) == []  # nothing left to do


def test_explorer_picks_a_prefetched_date_without_recomputing(planted):
    data = ExplorerData(planted_tables(planted))
    calls = _counting(data)
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(data, as_of=AS_OF, index_events="off", prefetch_months=2)
        assert data.wait_for_prefetch(timeout=120)
        assert "2024-11-01" in explorer.as_of_status.value and "preparing" not in explorer.as_of_status.value
        explorer.set_as_of("2024-11-01")  # a day, as the date picker gives it: its end
        explorer.as_of.value = dt.date(2024, 12, 1)  # the picker itself
    assert [stamp.date().isoformat() for stamp, _ in calls] == ["2024-12-31", "2024-12-01", "2024-11-01"]
    assert explorer.result.state.as_of == decision_time("2024-12-01")
    explorer.set_as_of("2024-11-01")
    assert len(calls) == 3  # both picks served from the prefetch
    expected = compute(planted_tables(planted), decision_time("2024-11-01"))
    assert explorer.features.index.equals(expected.index)


def _gated(data: ExplorerData) -> tuple[list[tuple[pd.Timestamp, str]], threading.Event]:
    """Like :func:`_counting`, but the prefetch thread waits for the returned event."""
    calls: list[tuple[pd.Timestamp, str]] = []
    gate = threading.Event()
    build = data._build

    def gated(stamp, **kwargs):
        calls.append((stamp, threading.current_thread().name))
        if threading.current_thread() is not threading.main_thread():
            assert gate.wait(60)
        return build(stamp, **kwargs)

    data._build = gated
    return calls, gate


def _wait_for_calls(calls: list, n: int) -> None:
    for _ in range(600):
        if len(calls) >= n:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"the prefetch thread did not start: {calls}")


def test_the_foreground_takes_over_a_queued_date_and_awaits_a_running_one(planted):
    data = ExplorerData(planted_tables(planted))
    calls, gate = _gated(data)
    dates = [pd.Timestamp(f"2024-{m:02d}-01", tz="UTC") for m in (11, 10, 9)]
    data.prefetch(dates)
    _wait_for_calls(calls, 1)  # the thread holds dates[0]; dates[1:] are queued
    queued = data.snapshot(dates[2])
    assert calls == [(dates[0], "segkit-explorer-prefetch"), (dates[2], "MainThread")]
    assert data.prefetch_pending == dates[:2]
    awaited: list = []
    waiter = threading.Thread(target=lambda: awaited.append(data.snapshot(dates[0])))
    waiter.start()
    gate.set()
    waiter.join(60)
    assert data.wait_for_prefetch(timeout=120)
    assert sorted(stamp for stamp, _ in calls) == sorted(dates)  # each date computed once
    assert awaited[0] is data.snapshot(dates[0])
    pd.testing.assert_index_equal(queued.features.index, compute(planted_tables(planted), dates[2]).index)


def test_close_stops_after_the_running_date(planted):
    data = ExplorerData(planted_tables(planted))
    calls, gate = _gated(data)
    data.prefetch([pd.Timestamp(f"2024-{m:02d}-01", tz="UTC") for m in range(12, 6, -1)])
    _wait_for_calls(calls, 1)
    closing = threading.Thread(target=data.close)
    closing.start()
    assert data._stopping.wait(60)  # the queue is cleared before the stop is flagged
    gate.set()
    closing.join(60)
    assert data.wait_for_prefetch(timeout=0)
    assert len(calls) == 1 and data.prefetch_pending == []
    assert data.ready_dates == [pd.Timestamp("2024-12-01", tz="UTC")]


def test_a_fixed_feature_table_prefetches_nothing(features):
    data = ExplorerData(features)
    assert data.prefetch([pd.Timestamp("2024-11-01", tz="UTC")]) == []
    assert data.prefetch_pending == []


def test_prefetch_from_a_workspace_object(tmp_path, planted):
    from segkit.io import Workspace

    with Workspace(tmp_path / "ws.duckdb") as workspace:
        workspace.ingest("subscribers", planted["subscribers"])
        workspace.ingest("events", planted["events"])
        data = ExplorerData(workspace)
        stamp = pd.Timestamp("2024-11-01", tz="UTC")
        data.prefetch([stamp])
        assert data.wait_for_prefetch(timeout=120)
        assert data.prefetch_errors == {}
        expected = compute(workspace, stamp)
        pd.testing.assert_frame_equal(data.snapshot(stamp).features[expected.columns], expected)


def test_a_date_picked_during_a_prefetch_query_interrupts_it(planted, monkeypatch):
    """The prefetch's running query is interrupted so the picked date does not wait for it; the
    interrupted date is computed afterwards, and every snapshot is right."""
    import segkit.features

    real = segkit.features.compute
    started, slow_runs = threading.Event(), []

    def compute(source, as_of, **kwargs):
        if threading.current_thread() is not threading.main_thread() and not slow_runs:
            slow_runs.append(as_of)
            started.set()
            source.con.sql(LONG_QUERY).fetchall()
        return real(source, as_of, **kwargs)

    monkeypatch.setattr(segkit.features, "compute", compute)
    data = ExplorerData(planted_tables(planted))
    first, picked = pd.Timestamp("2024-11-01", tz="UTC"), pd.Timestamp("2024-08-15", tz="UTC")
    data.prefetch([first])
    assert started.wait(60)
    threading.Event().wait(0.2)  # the long query is running
    clock = time.perf_counter()
    snapshot = data.snapshot(picked)
    assert time.perf_counter() - clock < 20  # not waiting for the long query
    assert data.wait_for_prefetch(timeout=120) and data.prefetch_errors == {}
    assert slow_runs == [first] and data.ready_dates == sorted([first, picked])
    for stamp, got in ((picked, snapshot), (first, data.snapshot(first))):
        expected = real(planted_tables(planted), stamp)
        pd.testing.assert_frame_equal(got.features[expected.columns], expected)


def test_prefetched_dates_stay_cached_while_other_dates_come_and_go(planted):
    data = ExplorerData(planted_tables(planted))
    kept = [pd.Timestamp("2024-11-01", tz="UTC"), pd.Timestamp("2024-10-01", tz="UTC")]
    data.prefetch(kept)
    assert data.wait_for_prefetch(timeout=120)
    others = [pd.Timestamp(f"2024-12-{d:02d}", tz="UTC") for d in (5, 10, 15, 20, 25)]
    for stamp in others:
        data.snapshot(stamp)
    assert data.ready_dates == sorted(kept + others[-3:])


def test_a_feature_table_with_events_is_used_for_its_own_date_only(planted, features):
    data = ExplorerData(features, events=planted["events"], subscribers=planted["subscribers"])
    assert data.features_at(AS_OF) is features
    earlier = pd.Timestamp("2024-10-01", tz="UTC")
    pd.testing.assert_frame_equal(data.features_at(earlier), compute(planted_tables(planted), earlier))
