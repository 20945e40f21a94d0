"""Indexing the events (while opening, or in the background): afterwards every as-of date comes
from the index (the same table as ``compute``, no database query); before it, and when it fails,
dates are computed as before; a date picked while indexing interrupts the index's reads."""

from __future__ import annotations

import contextlib
import io
import threading
import time

import pandas as pd
import pytest

import segkit.features
from segkit.errors import ValidationError
from segkit.explore import ExplorerData, SegmentExplorer
from segkit.features import compute

from .conftest import AS_OF, LONG_QUERY, planted_tables

DATES = [pd.Timestamp(d, tz="UTC") for d in ("2024-11-15", "2024-07-04", "2024-12-31")]



def _no_compute(monkeypatch) -> list:
    """Record calls of segkit.features.compute (the explorer's way without the index)."""
    calls: list = []
    real = segkit.features.compute

    def counted(source, as_of, **kwargs):
        calls.append(as_of)
        return real(source, as_of, **kwargs)

    monkeypatch.setattr(segkit.features, "compute", counted)
    return calls


def test_indexed_dates_equal_compute_without_querying(planted, monkeypatch):
    data = ExplorerData(planted_tables(planted))
    assert data.index_events() and data.indexing
    assert data.wait_for_prefetch(timeout=120)
    assert data.indexed and not data.indexing and data.index_error is None
    assert not data.index_events()  # already indexed
    calls = _no_compute(monkeypatch)
    for stamp in DATES:
        got = data.snapshot(stamp).features
        expected = compute(planted_tables(planted), stamp)
        pd.testing.assert_frame_equal(got[expected.columns], expected, check_exact=False, rtol=1e-9)
    assert calls == []  # the expected tables come from the unpatched import


def test_the_explorer_indexes_while_opening_by_default(planted, monkeypatch):
    calls = _no_compute(monkeypatch)
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(planted_tables(planted), as_of=AS_OF)
        assert explorer.data.indexed and "indexed" in explorer.as_of_status.value
        explorer.set_as_of(DATES[0])
    assert calls == [] and explorer.result.state.as_of == DATES[0]  # both dates from the index
    expected = compute(planted_tables(planted), DATES[0])
    pd.testing.assert_frame_equal(explorer.features[expected.columns], expected, check_exact=False,
                                  rtol=1e-9)
    assert explorer.timings[-1][0] == "as_of"


def test_background_indexing_says_when_it_is_done(planted, monkeypatch):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(planted_tables(planted), as_of=AS_OF, index_events="background")
        assert explorer.data.wait_for_prefetch(timeout=120) and explorer.data.indexed
        explorer._show_as_of_status()  # the thread's own call may race with this check
        assert "indexed" in explorer.as_of_status.value
        calls = _no_compute(monkeypatch)
        explorer.set_as_of(DATES[0])
    assert calls == [] and explorer.result.state.as_of == DATES[0]


def test_off_computes_each_date(planted, monkeypatch):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(planted_tables(planted), as_of=AS_OF, index_events="off")
        calls = _no_compute(monkeypatch)
        explorer.set_as_of(DATES[0])
    assert not explorer.data.indexed and calls == [DATES[0]]
    with pytest.raises(ValidationError, match="index_events must be one of 'open', 'background'"):
        SegmentExplorer(planted_tables(planted), as_of=AS_OF, index_events=True)


@pytest.mark.parametrize("mode", ["open", "background"])
def test_a_failed_index_is_reported_and_dates_are_still_computed(planted, monkeypatch, mode):
    def broken(*args, **kwargs):
        raise MemoryError("no room for the index")

    monkeypatch.setattr(segkit.features, "FeatureTimeline", broken)
    with contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(planted_tables(planted), as_of=AS_OF, index_events=mode)
        assert explorer.data.wait_for_prefetch(timeout=120)
        explorer._show_as_of_status()
        explorer.set_as_of(DATES[0])
    assert explorer.data.index_error == "MemoryError: no room for the index"
    assert "not indexed" in explorer.as_of_status.value
    assert explorer.result.state.as_of == DATES[0]


def test_a_date_picked_while_indexing_interrupts_the_reads(planted, monkeypatch):
    """The index's database reads are interrupted for the picked date, which is computed at once;
    the index is then built from scratch and gives the same tables."""
    from segkit.features._timeline import FeatureTimeline

    real_read = FeatureTimeline._read
    started, slow_reads = threading.Event(), []

    def slow_read(self, tables):
        if not slow_reads:
            slow_reads.append(True)
            started.set()
            tables.events._find_backend().con.sql(LONG_QUERY).fetchall()
        return real_read(self, tables)

    monkeypatch.setattr(FeatureTimeline, "_read", slow_read)
    data = ExplorerData(planted_tables(planted))
    data.index_events()
    assert started.wait(60)
    threading.Event().wait(0.2)  # the long query is running
    clock = time.perf_counter()
    picked = data.snapshot(DATES[0])
    assert time.perf_counter() - clock < 20
    assert data.wait_for_prefetch(timeout=120) and data.indexed, data.index_error
    for stamp, got in ((DATES[0], picked), (DATES[1], data.snapshot(DATES[1]))):
        expected = compute(planted_tables(planted), stamp)
        pd.testing.assert_frame_equal(got.features[expected.columns], expected, check_exact=False,
                                      rtol=1e-9)


@pytest.mark.parametrize("kind", ["object", "path"])
def test_indexing_a_workspace(tmp_path, planted, kind):
    from segkit.io import Workspace

    path = tmp_path / "ws.duckdb"
    with Workspace(path) as workspace:
        workspace.ingest("subscribers", planted["subscribers"])
        workspace.ingest("events", planted["events"])
        expected = compute(workspace, DATES[0])
        if kind == "object":
            data = ExplorerData(workspace)
            data.index_events()
            assert data.wait_for_prefetch(timeout=120) and data.indexed, data.index_error
            got = data.snapshot(DATES[0]).features
    if kind == "path":
        data = ExplorerData(path)
        data.index_events()
        assert data.wait_for_prefetch(timeout=120) and data.indexed, data.index_error
        got = data.snapshot(DATES[0]).features
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_exact=False, rtol=1e-9)


def test_a_fixed_feature_table_has_nothing_to_index(features):
    data = ExplorerData(features)
    assert not data.index_events() and not data.indexing
