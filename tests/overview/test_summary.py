"""Workspace summary numbers on hand-made tables whose answers are counted by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.overview import (
    WORKSPACE_SUMMARY_TABLES,
    WorkspaceSummary,
    summarize_tables,
    workspace_summary,
)


def _tables():
    ts = pd.to_datetime([
        "2024-01-01 00:00", "2024-01-07 23:59",  # Monday, Sunday: week of 2024-01-01
        "2024-01-08 00:00", "2024-01-08 10:00", "2024-01-09 12:00", "2024-01-14 08:00",
    ], utc=True)
    events = pd.DataFrame({
        "event_id": list("abcdef"), "subscriber_id": ["s1", "s1", "s2", "s2", "s3", "s3"],
        "event_type": ["send", "open", "open", "open", "open", "click"], "ts": ts,
        "campaign_id": ["c1", "c1", None, None, None, None],
        "machine_open": [False, True, False, pd.NA, True, False],
    })
    subscribers = pd.DataFrame({
        "subscriber_id": ["s1", "s2", "s3", "s4"], "email": ["a@x.io"] * 4,
        "timezone": ["Europe/Berlin", "Europe/Berlin", None, "America/New_York"],
        "consent": [True, True, False, None],
        "unsubscribed_at": [pd.NaT, pd.Timestamp("2024-02-01", tz="UTC"), pd.NaT, pd.NaT],
    })
    ingest_log = pd.DataFrame({
        "ingest_id": [2, 1], "table_name": ["events", "subscribers"], "source": ["e.csv", "s.csv"],
        "finished_at": pd.to_datetime(["2024-03-01", "2024-03-01"], utc=True),
        "rows_read": [10, 4], "rows_loaded": [6, 4], "rows_duplicate": [1, 0],
        "rows_quarantined": [3, 0], "status": ["ok_with_quarantine", "ok"],
    })
    quarantine = pd.DataFrame({
        "table_name": ["events"] * 3, "column_name": ["ts", "ts", "value"],
        "reason": ["bad date", "bad date", "negative"],
    })
    return {"events": events, "subscribers": subscribers, "ingest_log": ingest_log,
            "quarantine": quarantine, "campaigns": pd.DataFrame({
                "campaign_id": ["c1", "c2"], "name": ["First", "Second"],
                "sent_at": pd.to_datetime(["2024-01-01", "2024-01-08"], utc=True),
                "experiment_id": [None, "x1"], "arm": [None, "b"]}),
            "assignments": pd.DataFrame({"experiment_id": [], "subscriber_id": [], "arm": []})}


@pytest.fixture
def summary() -> WorkspaceSummary:
    return summarize_tables(_tables())


def test_weekly_events_use_monday_weeks(summary):
    got = {(str(w.date()), t): n for w, t, n in summary.weekly_events.itertuples(index=False)}
    assert got == {("2024-01-01", "send"): 1, ("2024-01-01", "open"): 1, ("2024-01-08", "open"): 3,
                   ("2024-01-08", "click"): 1}
    assert summary.total_events == 6


def test_machine_open_share_counts_missing_flags_as_human(summary):
    assert summary.machine_open_share == pytest.approx(2 / 4)
    weekly = summary.weekly_opens.set_index(summary.weekly_opens["week"].dt.date.astype(str))
    assert weekly.loc["2024-01-01", ["human_opens", "machine_opens"]].tolist() == [0, 1]
    assert weekly.loc["2024-01-08", ["human_opens", "machine_opens"]].tolist() == [2, 1]
    assert weekly.loc["2024-01-08", "machine_share"] == pytest.approx(1 / 3)


def test_ingests_are_sorted_and_checked_for_balance(summary):
    assert summary.ingests["ingest_id"].tolist() == [1, 2]
    assert summary.ingests["balanced"].tolist() == [True, True]
    tables = _tables()
    tables["ingest_log"].loc[0, "rows_read"] = 11
    assert not summarize_tables(tables).all_ingests_balanced


def test_quarantine_reasons_most_frequent_first(summary):
    assert summary.quarantine_reasons.values.tolist() == [["events", "ts", "bad date", 2],
                                                          ["events", "value", "negative", 1]]


def test_subscribers_by_timezone_and_status(summary):
    zones = summary.subscribers_by_timezone
    assert zones.values.tolist() == [["Europe/Berlin", 2, 0.5], ["(unknown)", 1, 0.25],
                                     ["America/New_York", 1, 0.25]]
    status = {(c, s): n for c, s, n in summary.subscribers_by_status.itertuples(index=False)}
    assert status == {("yes", "subscribed"): 1, ("yes", "unsubscribed"): 1, ("no", "subscribed"): 1,
                      ("unknown", "subscribed"): 1}


def test_campaigns_latest_first_with_sends(summary):
    assert summary.campaigns[["campaign_id", "sends"]].values.tolist() == [["c2", 0], ["c1", 1]]


def test_key_numbers_and_period(summary):
    numbers = summary.key_numbers()
    assert numbers["rows_events"] == 6 and numbers["rows_assignments"] == 0 and numbers["rows_campaigns"] == 2
    assert numbers["rows_quarantined"] == 3 and numbers["ingests"] == 2 and numbers["timezones"] == 2
    assert numbers["data_start"].startswith("2024-01-01T00:00") and numbers["data_end"].startswith("2024-01-14")
    assert "machine-open share: 50.0%" in summary.summary()
    assert summary.to_frame().shape == (len(numbers), 2)
    assert "<pre>" in summary._repr_html_()


def test_empty_workspace_has_no_period_and_nan_share():
    tables = {name: frame.iloc[0:0] for name, frame in _tables().items()}
    empty = summarize_tables(tables)
    assert empty.data_period is None and math.isnan(empty.machine_open_share)
    assert empty.key_numbers()["machine_open_share"] is None and empty.weekly_events.empty
    assert "no events" in empty.summary() and "n/a (no opens)" in empty.summary()


def test_missing_tables_and_columns_are_named():
    tables = _tables()
    del tables["quarantine"]
    with pytest.raises(ValidationError, match="missing table.s. quarantine"):
        summarize_tables(tables)
    tables = _tables()
    tables["events"] = tables["events"].drop(columns=["machine_open", "ts"])
    with pytest.raises(ValidationError, match="'events' is missing column.s. machine_open, ts"):
        summarize_tables(tables)


def test_workspace_summary_reads_a_real_workspace(tmp_path):
    from segkit.io import Workspace

    events = pd.DataFrame({"subscriber_id": ["s1", "s1"], "event_type": ["send", "opened"],
                           "ts": ["2024-01-02T10:00:00Z", "2024-01-02T12:00:00Z"]})
    subscribers = pd.DataFrame({"subscriber_id": ["s1"], "timezone": ["Europe/Paris"], "consent": [True]})
    with Workspace(tmp_path / "w.duckdb") as ws:
        ws.ingest("subscribers", subscribers)
        ws.ingest("events", events)
        summary = workspace_summary(ws)
    assert summary.key_numbers()["rows_events"] == 2 and len(summary.ingests) == 2
    assert summary.weekly_events["events"].sum() == 2


def test_database_and_pandas_paths_agree_on_synthetic_data(tmp_path):
    from segkit.datasets._synthetic import synthetic
    from segkit.io import Workspace

    data = synthetic(n_subscribers=200, seed=3)
    tables = data.tables() if callable(data.tables) else data.tables
    with Workspace(tmp_path / "w.duckdb") as ws:
        for name in ("subscribers", "campaigns", "events", "assignments"):
            ws.ingest(name, tables[name])
        in_db = workspace_summary(ws)
        in_pandas = summarize_tables({name: ws.table(name) for name in WORKSPACE_SUMMARY_TABLES})
    for field in ("table_rows", "ingests", "quarantine_reasons", "weekly_events", "weekly_opens",
                  "subscribers_by_timezone", "subscribers_by_status", "campaigns"):
        pd.testing.assert_frame_equal(getattr(in_db, field), getattr(in_pandas, field),
                                      check_dtype=False, obj=field)
    assert in_db.machine_open_share == pytest.approx(in_pandas.machine_open_share)
    assert in_db.data_period == in_pandas.data_period and in_db.total_events == len(tables["events"])


def test_order_lines_are_counted_when_present(tmp_path):
    """Lines, orders, products, customers and cancellation/return lines of ``order_lines``, the
    same from the database and from DataFrames; None (and no keys) without order lines."""
    from segkit.io import Workspace

    lines = pd.DataFrame({
        "order_id": ["A1", "A1", "A1", "A2", "CA1", "B7"],
        "subscriber_id": ["c1", "c1", "c1", "c1", "c1", "c2"],
        "ts": ["2011-01-03T10:00:00Z"] * 3 + ["2011-02-01T09:00:00Z", "2011-01-03T10:12:00Z", "2011-03-05T12:00:00Z"],
        "quantity": [2.0, 1.0, 5.0, 1.0, -2.0, 3.0],
        "unit_price": [1.5, 10.0, 0.4, 10.0, 1.5, 2.0],
        "product_id": ["p1", "p2", "p3", "p2", "p1", "p1"],
    })
    with Workspace(tmp_path / "w.duckdb") as ws:
        assert workspace_summary(ws).order_lines is None
        assert "order_lines" not in workspace_summary(ws).key_numbers()
        ws.ingest("orders", lines)
        in_db = workspace_summary(ws)
        in_pandas = summarize_tables({name: ws.table(name) for name in WORKSPACE_SUMMARY_TABLES})
    want = {"lines": 6, "orders": 4, "products": 3, "customers": 2, "return_lines": 1}
    assert in_db.order_lines == want and in_pandas.order_lines == want
    numbers = in_db.key_numbers()
    assert (numbers["order_lines"], numbers["orders"], numbers["products"]) == (6, 4, 3)
    assert numbers["rows_order_lines"] == 6 and numbers["rows_events"] == 4  # 3 purchases, 1 refund
    assert in_db.order_lines_text() == ("order lines: 6 lines, 1 of them cancellations or returns, in 4 orders "
                                        "of 2 customers, 3 products")
    assert in_db.order_lines_text() in in_db.summary()
