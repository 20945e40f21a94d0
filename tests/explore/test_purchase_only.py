"""The explorer on a purchase log (issue 18, items 9 and 13): it opens without a subscribers
table, defaults to the end of the data like the reports, reads a picked date as the end of
that day, and says why the engagement tiers call every buyer inactive."""

from __future__ import annotations

import contextlib
import datetime as dt
import io

import pandas as pd
import pytest

from segkit.datasets import cdnow
from segkit.explore import ExplorerData, SegmentExplorer
from segkit.features import compute
from segkit.io import Workspace

LAST_DAY = pd.Timestamp("1997-06-30", tz="UTC")


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    events = cdnow()
    keep = sorted(events["subscriber_id"].unique())[:300]
    events = events[events["subscriber_id"].isin(keep) & (events["ts"] <= LAST_DAY)]
    # one purchase late on the last day: a midnight as_of would drop it
    late = events.iloc[[0]].assign(event_id="late", ts=LAST_DAY + pd.Timedelta(hours=18), value=12.5)
    return pd.concat([events, late], ignore_index=True)


@pytest.fixture(scope="module")
def workspace(purchases, tmp_path_factory):
    path = tmp_path_factory.mktemp("purchase_ws") / "ws.duckdb"
    with Workspace(path) as ws:
        ws.ingest("events", purchases)
    return path


def _open(source, **kwargs) -> SegmentExplorer:
    with contextlib.redirect_stdout(io.StringIO()):
        return SegmentExplorer(source, **kwargs)


def test_opens_on_a_purchase_log_without_subscribers(workspace, purchases):
    """It crashed while opening: IndexError in build_snapshot (no subscriber attributes)."""
    explorer = _open(workspace)
    last = LAST_DAY + pd.Timedelta(hours=18)
    assert explorer.result.state.as_of == last  # the end of the data, as the reports default
    assert "as of 1997-06-30 18:00:00 UTC" in explorer.as_of_status.value
    assert explorer.features["country"].eq("unknown").all()
    assert len(explorer.features) == purchases["subscriber_id"].nunique()
    explorer.close()


def test_engagement_on_a_purchase_log_says_why_everyone_is_inactive(workspace):
    explorer = _open(workspace, index_events="off")
    note = explorer.result.note
    assert "the data hold no email events" in note and "every subscriber is 'inactive'" in note
    assert "no email events" in explorer.result.summary()
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.scheme.value = "rfm"
    assert "no email events" not in explorer.result.note
    explorer.close()


def test_a_picked_date_is_the_end_of_that_day(workspace):
    explorer = _open(workspace, as_of="1997-06-01")
    assert explorer.result.state.as_of == pd.Timestamp("1997-06-01 23:59:59.999999", tz="UTC")
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.set_as_of(dt.date(1997, 6, 30))
    end_of_day = pd.Timestamp("1997-06-30 23:59:59.999999", tz="UTC")
    assert explorer.result.state.as_of == end_of_day
    with Workspace(workspace, read_only=True) as ws:
        expected = compute(ws, end_of_day)
    assert explorer.features["purchase_count_30d"].sum() == expected["purchase_count_30d"].sum()
    with Workspace(workspace, read_only=True) as ws:  # midnight would miss the 18:00 purchase
        assert compute(ws, LAST_DAY)["purchase_count_30d"].sum() < expected["purchase_count_30d"].sum()
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.set_as_of(pd.Timestamp("1997-06-30 12:00", tz="UTC"))  # an exact time is kept
    assert explorer.result.state.as_of == pd.Timestamp("1997-06-30 12:00", tz="UTC")
    explorer.close()


def test_tables_without_subscribers_and_data_end(purchases):
    data = ExplorerData({"events": purchases})
    assert data.data_end == LAST_DAY + pd.Timedelta(hours=18)
    snapshot = data.snapshot(data.data_end)
    assert snapshot.shape.purchase_only and snapshot.shape.missing("email")
