"""Ingest: counts that add up, idempotence, mapping, time zones, upserts, quarantine, atomicity."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from segkit.errors import InputError
from segkit.io import IngestReport, Workspace


def events_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (subscriber_id, event_type, ts text, campaign_id)."""
    return pd.DataFrame(rows, columns=["subscriber_id", "event_type", "ts", "campaign_id"])


def counts(report) -> tuple[int, int, int, int]:
    return report.rows_read, report.rows_loaded, report.rows_duplicate, report.rows_quarantined


SEND_OPEN = [
    ("s1", "send", "2024-01-01T10:00:00Z", "c1"),
    ("s1", "opened", "2024-01-01T11:00:00Z", "c1"),
    ("s2", "Email-Open", "2024-01-01T12:00:00+01:00", "c1"),
]


def test_report_line_and_counts(workspace):
    report = workspace.ingest("events", events_frame(SEND_OPEN))
    assert str(report) == (
        "events from DataFrame: read 3, loaded 3, duplicates skipped 0, quarantined 0"
    )
    assert report.ingest_id == 1
    events = workspace.table("events").sort_values("ts")
    assert events["event_type"].tolist() == ["send", "open", "open"]
    assert events["ts"].iloc[2] == pd.Timestamp("2024-01-01T11:00:00", tz="UTC")


def test_same_frame_twice_loads_nothing_the_second_time(workspace):
    frame = events_frame(SEND_OPEN)
    assert counts(workspace.ingest("events", frame)) == (3, 3, 0, 0)
    assert counts(workspace.ingest("events", frame)) == (3, 0, 3, 0)
    assert len(workspace.table("events")) == 3
    assert workspace.table("ingest_log")["ingest_id"].tolist() == [1, 2]


def test_derived_event_id_is_a_hash_of_canonical_fields(workspace):
    frame = events_frame(SEND_OPEN[:1] * 2)  # the same event twice in one file
    assert counts(workspace.ingest("events", frame)) == (2, 1, 1, 0)
    event_id = workspace.table("events")["event_id"].iloc[0]
    micros = str(int(pd.Timestamp("2024-01-01T10:00:00Z").value // 1000))
    expected = hashlib.md5("\x1f".join(["s1", "send", micros, "c1", "", ""]).encode()).hexdigest()
    assert event_id == "h" + expected


def test_explicit_event_ids_dedupe_across_sources(workspace, tmp_path):
    frame = events_frame(SEND_OPEN).assign(event_id=["a", "b", "c"])
    workspace.ingest("events", frame.iloc[:2])
    path = tmp_path / "events.csv.gz"
    with gzip.open(path, "wt") as handle:
        frame.to_csv(handle, index=False)
    assert counts(workspace.ingest("events", path)) == (3, 1, 2, 0)


def test_csv_and_parquet_sources_agree(workspace, tmp_path):
    frame = events_frame(SEND_OPEN)
    frame.to_csv(tmp_path / "e.csv", index=False)
    frame.to_parquet(tmp_path / "e.parquet")
    first = workspace.ingest("events", tmp_path / "e.csv")
    second = workspace.ingest("events", str(tmp_path / "e.parquet"))
    assert counts(first) == (3, 3, 0, 0) and counts(second) == (3, 0, 3, 0)
    log = workspace.table("ingest_log")
    assert log["sha256"].iloc[0] == hashlib.sha256((tmp_path / "e.csv").read_bytes()).hexdigest()
    assert log["status"].tolist() == ["ok", "ok"]


def test_mapping_renames_columns(workspace):
    frame = pd.DataFrame({"user": ["s1"], "kind": ["click"], "when": ["2024-01-01T00:00:00Z"]})
    report = workspace.ingest(
        "events", frame, mapping={"subscriber_id": "user", "event_type": "kind", "ts": "when"}
    )
    assert report.rows_loaded == 1


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"timestamp": "when"}, "unknown mapping target 'timestamp' for events; valid: event_id"),
        ({"ts": "time"}, "mapping ts=time names no column of the file"),
        ({"subscriber_id": "user", "event_type": "kind"}, "required column(s) 'ts' missing"),
    ],
)
def test_structural_mapping_errors_write_nothing(workspace, mapping, message):
    frame = pd.DataFrame({"user": ["s1"], "kind": ["click"], "when": ["2024-01-01T00:00:00Z"]})
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        workspace.ingest("events", frame, mapping=mapping)
    assert workspace.table("ingest_log").empty and workspace.table("events").empty


def test_ambiguous_columns_are_structural_errors(workspace):
    frame = pd.DataFrame({"subscriber_id": ["s1"], "event_type": ["open"], "TS": ["x"],
                          "ts": ["2024-01-01T00:00:00Z"]})
    with pytest.raises(InputError, match="several columns are named 'ts'"):
        workspace.ingest("events", frame)
    with pytest.raises(InputError, match="column 'ts' clashes with a --map target"):
        workspace.ingest("events", frame.drop(columns="TS"), mapping={"ts": "subscriber_id"})


def test_tab_separated_file_with_non_string_column_labels(workspace, tmp_path):
    path = tmp_path / "events.tsv"
    events_frame(SEND_OPEN).to_csv(path, sep="\t", index=False)
    assert workspace.ingest("events", path, sep="\t").rows_loaded == 3
    numbered = events_frame(SEND_OPEN).set_axis([0, 1, 2, 3], axis=1)
    report = workspace.ingest(
        "events", numbered, mapping={"subscriber_id": "0", "event_type": "1", "ts": "2"}
    )
    assert counts(report) == (3, 3, 0, 0)  # campaign_id is now a property: different events
    assert report.notes == ("extra column(s) 3 kept in properties",)


def test_naive_timestamps_need_tz_and_then_convert_correctly(workspace):
    frame = events_frame([("s1", "open", "2024-07-01 10:00:00", None)])
    with pytest.raises(InputError, match=r"column 'ts' has timestamps without a time zone .*--tz"):
        workspace.ingest("events", frame)
    workspace.ingest("events", frame, tz="Europe/Paris")
    assert workspace.table("events")["ts"].iloc[0] == pd.Timestamp("2024-07-01 08:00", tz="UTC")
    with pytest.raises(InputError, match="unknown time zone 'Europe/Pari'"):
        workspace.ingest("events", frame, tz="Europe/Pari")


def test_typed_datetime_columns(workspace):
    frame = events_frame(SEND_OPEN)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601").dt.tz_convert("Asia/Tokyo")
    workspace.ingest("events", frame)
    naive = frame.assign(ts=frame["ts"].dt.tz_localize(None))
    with pytest.raises(InputError, match="without a time zone"):
        workspace.ingest("events", naive)
    numeric = frame.assign(ts=np.arange(3))
    with pytest.raises(InputError, match="holds numbers, not timestamps"):
        workspace.ingest("events", numeric)


def test_quarantine_rows_record_row_column_reason_and_raw(workspace):
    frame = events_frame(SEND_OPEN + [("s3", "teleport", "2024-01-01T10:00:00Z", "c1")])
    frame["value"] = [None, None, "-2", None]
    report = workspace.ingest("events", frame)
    assert counts(report) == (4, 2, 0, 2)
    assert report.quarantine[["row_number", "column"]].values.tolist() == [
        [3, "value"], [4, "event_type"]
    ]
    stored = workspace.table("quarantine")
    assert stored["row_number"].tolist() == [3, 4]
    assert json.loads(stored["raw"].iloc[1])["event_type"] == "teleport"
    assert stored["value"].tolist() == ["-2", "teleport"]
    assert "value: value is negative" in report.summary()
    assert "<table>" in report._repr_html_()
    assert report.to_frame()["rows_quarantined"].item() == 2
    assert workspace.table("ingest_log")["status"].item() == "ok_with_quarantine"


def test_report_refuses_counts_that_do_not_add_up():
    with pytest.raises(AssertionError, match="do not add up"):
        IngestReport("events", "x", 1, rows_read=3, rows_loaded=1, rows_duplicate=1,
                     rows_quarantined=0)


def test_subscribers_upsert_merge_and_duplicates(workspace):
    first = pd.DataFrame({
        "subscriber_id": ["s1", "s2"], "email": ["a@x.org", "b@x.org"],
        "timezone": ["Europe/Paris", "UTC"], "consent": ["yes", "no"], "plan": ["gold", "free"],
    })
    assert counts(workspace.ingest("subscribers", first)) == (2, 2, 0, 0)
    assert counts(workspace.ingest("subscribers", first)) == (2, 0, 2, 0)
    change = pd.DataFrame({"subscriber_id": ["s1", "s3"], "email": ["new@x.org", "c@x.org"],
                           "region": ["EU", "US"]})
    assert counts(workspace.ingest("subscribers", change)) == (2, 2, 0, 0)
    stored = workspace.table("subscribers").set_index("subscriber_id")
    assert stored.loc["s1", "email"] == "new@x.org"
    assert stored.loc["s1", "timezone"] == "Europe/Paris"  # not provided: kept
    assert bool(stored.loc["s1", "consent"]) is True
    assert json.loads(stored.loc["s1", "attributes"]) == {"plan": "gold", "region": "EU"}


def test_campaigns_conflicting_duplicate_in_one_file_is_quarantined(workspace):
    frame = pd.DataFrame({"campaign_id": ["c1", "c1", "c2"], "name": ["A", "B", "C"],
                          "sent_at": ["2024-01-01T00:00:00Z"] * 3})
    report = workspace.ingest("campaigns", frame)
    assert counts(report) == (3, 2, 0, 1)
    assert "first on row 1" in report.quarantine["reason"].item()


def test_assignments_need_known_subscribers_and_never_change_arm(workspace):
    workspace.ingest("subscribers", pd.DataFrame({"subscriber_id": ["s1", "s2"]}))
    frame = pd.DataFrame({"experiment_id": ["x"] * 3, "subscriber_id": ["s1", "s2", "ghost"],
                          "arm": ["control", "treatment", "control"]})
    report = workspace.ingest("assignments", frame)
    assert counts(report) == (3, 2, 0, 1)
    assert "unknown subscriber_id" in report.quarantine["reason"].item()
    flipped = frame.iloc[:2].assign(arm=["treatment", "treatment"])
    report = workspace.ingest("assignments", flipped)
    assert counts(report) == (2, 0, 1, 1)
    assert "assignments cannot change" in report.quarantine["reason"].item()
    assert workspace.table("assignments").set_index("subscriber_id")["arm"]["s1"] == "control"


def test_failure_inside_the_transaction_leaves_workspace_unchanged(workspace, monkeypatch):
    workspace.ingest("events", events_frame(SEND_OPEN[:1]))
    before = {name: workspace.table(name) for name in ("events", "ingest_log", "quarantine")}

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("segkit.io._ingest.refresh_machine_opens", explode)
    frame = events_frame(SEND_OPEN + [("s3", "bogus", "2024-01-01T00:00:00Z", None)])
    with pytest.raises(RuntimeError, match="disk on fire"):
        workspace.ingest("events", frame)
    for name, table in before.items():
        pd.testing.assert_frame_equal(workspace.table(name), table)
    monkeypatch.undo()
    assert counts(workspace.ingest("events", frame)) == (4, 2, 1, 1)


def test_progress_increments_sum_to_total(workspace):
    from segkit.io import INGEST_PROGRESS_TOTAL

    seen: list[int] = []
    workspace.ingest("events", events_frame(SEND_OPEN), progress=seen.append)
    assert sum(seen) == INGEST_PROGRESS_TOTAL and len(seen) >= 4


def test_counts_always_add_up_on_random_dirty_input(tmp_path):
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame({
        "event_id": rng.choice([f"e{i}" for i in range(300)] + [None], n),
        "subscriber_id": rng.choice(["s1", "s2", "", None, "s3"], n),
        "event_type": rng.choice(["open", "click", "Opened", "nope", None], n),
        "ts": rng.choice(["2024-01-01T00:00:00Z", "2024-01-02T05:00:00+05:00", "bad", None], n),
        "value": rng.choice(["1.5", "-1", "x", None, "1e99"], n),
    })
    with Workspace(tmp_path / "ws.duckdb") as ws:
        for _ in range(2):
            report = ws.ingest("events", frame)
            assert report.rows_read == n
            assert report.rows_read == (
                report.rows_loaded + report.rows_duplicate + report.rows_quarantined
            )
        assert len(ws.table("events")) == ws.table("ingest_log")["rows_loaded"].sum()


NAN_CSV = """subscriber_id,event_type,ts,{value},campaign_id
s1,purchase,2024-05-01T10:00:00Z,12.5,NaN
s2,purchase,2024-05-01T10:00:00Z,NaN,c1
s3,purchase,2024-05-01T10:00:00Z,nan,c1
s4,purchase,2024-05-01T10:00:00Z,,c1
s5,purchase,2024-05-01T10:00:00Z,inf,c1
"""


@pytest.mark.parametrize("column", ["value", " Value", "revenue"])
def test_nan_revenue_is_quarantined_like_inf(tmp_path, column):
    source = tmp_path / "events.csv"
    source.write_text(NAN_CSV.format(value=column))
    mapping = {"value": "revenue"} if column == "revenue" else None
    with Workspace(tmp_path / "ws.duckdb") as ws:
        report = ws.ingest("events", source, mapping=mapping)
        stored = ws.table("events").set_index("subscriber_id")
    assert counts(report) == (5, 2, 0, 3)
    reasons = report.quarantine.set_index("row_number")["reason"]
    assert reasons[2] == reasons[3] == "value is NaN (not a number); leave the cell empty when unknown"
    assert reasons[5] == "value is not a finite number"
    assert stored.loc["s1", "value"] == 12.5 and pd.isna(stored.loc["s4", "value"])  # empty: unknown
    assert pd.isna(stored.loc["s1", "campaign_id"])  # NaN elsewhere still means missing
