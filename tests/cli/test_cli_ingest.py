"""``segkit ingest`` through the real CLI: the bad-input corpus, options, and one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.io import Workspace

BAD = Path(__file__).parents[1] / "data" / "bad"

# file, table, extra args, exit code, fragment of the output, (read, loaded, dup, quarantined)
CORPUS = [
    ("bom.csv", "events", [], 0, "read 3, loaded 3", (3, 3, 0, 0)),
    ("semicolon.csv", "events", [], 0, "value is not a number", (3, 2, 0, 1)),
    ("semicolon.csv", "events", ["--sep", ","], 2, "the header looks ';'-separated", None),
    ("mixed_offsets.csv", "events", [], 0, "loaded 3", (3, 3, 0, 0)),
    ("naive_timestamps.csv", "events", [], 2,
     "column 'ts' has timestamps without a time zone (e.g. '2024-07-01 10:00:00' on row 1)", None),
    ("naive_timestamps.csv", "events", ["--tz", "America/New_York"], 0, "loaded 2", (2, 2, 0, 0)),
    ("unparseable_dates.csv", "events", [], 0, "ts: not an ISO 8601 timestamp", (4, 1, 0, 3)),
    # a purchase with a negative value is a return: loaded as a refund, not quarantined
    ("negative_amounts.csv", "events", [], 0, "value is not a number", (4, 2, 0, 2)),
    ("nan_ids.csv", "events", [], 0, "subscriber_id: required value is missing", (4, 1, 0, 3)),
    ("duplicate_ids.csv", "events", [], 0, "duplicate event_id with different values (first on row 1)",
     (4, 2, 1, 1)),
    ("unknown_event_types.csv", "events", [], 0, "unknown event type; valid: send, delivery",
     (4, 3, 0, 1)),
    ("huge_values.csv", "events", [], 0, "value is implausibly large", (3, 1, 0, 2)),
    ("latin1.csv", "events", [], 2, "latin1.csv: line 3 is not valid UTF-8 (byte 0xe9)", None),
    ("truncated.csv.gz", "events", [], 2, "truncated or corrupt gzip file", None),
    ("empty.csv", "events", [], 2, "empty.csv: file is empty", None),
    ("header_only.csv", "events", [], 0, "the file has a header but no data rows", (0, 0, 0, 0)),
    ("extra_columns.csv", "events", [], 0, "extra column(s) user_agent, category kept in properties",
     (3, 3, 0, 0)),
    ("quoted_newlines.csv", "events", [], 0, "read 3, loaded 2", (3, 2, 0, 1)),
    ("ragged_rows.csv", "events", [], 2, "line 3 has 8 fields but the header has 6", None),
    ("missing_column.csv", "events", [], 2, "required column(s) 'ts' missing for events", None),
    ("not_parquet.parquet", "events", [], 2, "not a Parquet file", None),
    ("zip_disguised.csv", "events", [], 2, "is a ZIP archive", None),
    ("bad_properties.csv", "events", [], 0, "properties is not a JSON object", (3, 1, 0, 2)),
    ("dst_gap.csv", "events", ["--tz", "Europe/Paris"], 0, "does not exist in Europe/Paris",
     (2, 1, 0, 1)),
    ("implausible_dates.csv", "events", [], 0, "implausible timestamp", (3, 1, 0, 2)),
    ("bad_subscribers.csv", "subscribers", [], 0, "not an IANA time zone name", (4, 1, 0, 3)),
    ("assignments_unknown_subscriber.csv", "assignments", [], 0, "unknown subscriber_id",
     (3, 0, 0, 3)),
    ("missing_file.csv", "events", [], 2, "missing_file.csv: file not found", None),
]


def run(workspace: Path, *args: str):
    return CliRunner().invoke(app, ["-w", str(workspace), "-v", *args])


def logged_counts(workspace: Path) -> tuple[int, ...] | None:
    with Workspace(workspace) as ws:
        log = ws.table("ingest_log")
    if log.empty:
        return None
    row = log.iloc[-1]
    return tuple(int(row[c]) for c in ("rows_read", "rows_loaded", "rows_duplicate",
                                       "rows_quarantined"))


@pytest.mark.parametrize(("name", "table", "args", "code", "fragment", "expected"), CORPUS,
                         ids=[f"{c[0]}{'+' + '_'.join(c[2]) if c[2] else ''}" for c in CORPUS])
def test_bad_corpus(tmp_path, name, table, args, code, fragment, expected):
    workspace = tmp_path / "ws.duckdb"
    result = run(workspace, "ingest", table, str(BAD / name), *args)
    assert result.exit_code == code, result.output
    assert fragment in result.output
    assert logged_counts(workspace) == expected  # structural errors write nothing
    if code == 2:
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1


def test_corpus_has_at_least_15_distinct_malformed_files():
    files = {p.name for p in BAD.iterdir() if p.suffix in {".csv", ".gz", ".parquet"}}
    assert len(files) >= 15
    assert files <= {c[0] for c in CORPUS}


def test_corpus_values_land_correctly(tmp_path):
    workspace = tmp_path / "ws.duckdb"
    for name in ("mixed_offsets.csv", "extra_columns.csv", "quoted_newlines.csv"):
        assert run(workspace, "ingest", "events", str(BAD / name)).exit_code == 0
    with Workspace(workspace) as ws:
        events = ws.table("events").set_index("event_id")
        quarantine = ws.table("quarantine")
    # mixed_offsets: 10:00Z, 12:00+02:00 and 05:00-05:00 are 10:00, 10:00 and 10:00 UTC
    # (extra_columns/quoted_newlines reuse ids e1..e3, so they count as duplicates of it)
    assert (events["ts"] == pd.Timestamp("2024-03-01T10:00:00", tz="UTC")).all()
    assert quarantine["row_number"].tolist() == [3]  # data rows, though row 1 spans two lines


def test_extra_columns_become_properties_and_flag_scanners(tmp_path):
    workspace = tmp_path / "ws.duckdb"
    assert run(workspace, "ingest", "events", str(BAD / "extra_columns.csv")).exit_code == 0
    with Workspace(workspace) as ws:
        events = ws.table("events").set_index("event_id")
    assert json.loads(events.loc["e2", "properties"])["user_agent"].endswith("Barracuda Sentinel)")
    assert json.loads(events.loc["e3", "properties"]) == {"category": "shoes"}
    assert events.loc["e2", "machine_open"] and pd.isna(events.loc["e1", "properties"])


def test_quoted_newline_survives(tmp_path):
    workspace = tmp_path / "ws.duckdb"
    run(workspace, "ingest", "events", str(BAD / "quoted_newlines.csv"))
    with Workspace(workspace) as ws:
        events = ws.table("events").set_index("event_id")
    assert json.loads(events.loc["e1", "properties"]) == {"note": "first line\nsecond line"}
    assert json.loads(events.loc["e2", "properties"]) == {"note": 'a, quoted "comma"'}


def test_map_option_quiet_and_rerun(tmp_path):
    source = tmp_path / "export.csv"
    pd.DataFrame({"user": ["s1", "s2"], "what": ["Clicked", "open"],
                  "time": ["2024-01-01 10:00", "2024-01-01 11:00"]}).to_csv(source, index=False)
    workspace = tmp_path / "ws.duckdb"
    args = ["ingest", "events", str(source), "--map", "subscriber_id=user", "--map",
            "event_type=what", "--map", "ts=time", "--tz", "UTC"]
    first = CliRunner().invoke(app, ["-w", str(workspace), *args])
    assert first.exit_code == 0
    assert first.output.strip() == (
        f"events from {source}: read 2, loaded 2, duplicates skipped 0, quarantined 0"
    )
    quiet = CliRunner().invoke(app, ["-w", str(workspace), "-q", *args])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert logged_counts(workspace) == (2, 0, 2, 0)
    bad = CliRunner().invoke(app, ["-w", str(workspace), *args[:3], "--map", "user"])
    assert bad.exit_code == 2 and "--map expects canonical=source_column" in bad.output


def test_unknown_table_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["-w", str(tmp_path / "w.duckdb"), "ingest", "event", "x.csv"])
    assert result.exit_code == 2 and "events" in result.output


def test_real_subprocess(tmp_path):
    workspace = tmp_path / "ws.duckdb"
    command = [sys.executable, "-m", "segkit", "-w", str(workspace), "ingest", "events"]
    ok = subprocess.run([*command, str(BAD / "bom.csv")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "read 3, loaded 3, duplicates skipped 0, quarantined 0" in ok.stdout
    bad = subprocess.run([*command, str(BAD / "latin1.csv")], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"error: {BAD / 'latin1.csv'}: line 3 is not valid UTF-8 (byte 0xe9); re-save the file as UTF-8"
    ]


def test_set_fills_a_constant_column(tmp_path):
    file = tmp_path / "orders.csv"
    file.write_text("customer,date,total\nc1,2024-01-01 10:00:00,12.5\nc2,2024-01-02 11:00:00,-4\n")
    workspace = tmp_path / "ws.duckdb"
    result = run(workspace, "ingest", "events", str(file), "--set", "event_type=purchase",
                 "--map", "subscriber_id=customer", "--map", "ts=date", "--map", "value=total",
                 "--tz", "Europe/London")
    assert result.exit_code == 0, result.output
    assert "read 2, loaded 2" in result.output
    assert "1 purchase(s) with a negative value loaded as refunds" in result.output
    with Workspace(workspace) as ws:
        assert sorted(ws.table("events")["event_type"]) == ["purchase", "refund"]


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "event_type"], "--set expects column=value, got 'event_type'"),
    (["--set", "a=1", "--set", "a=2"], "--set a is given twice"),
])  # fmt: skip
def test_set_rejects_malformed_pairs(tmp_path, args, message):
    file = tmp_path / "e.csv"
    file.write_text("subscriber_id,ts\ns1,2024-01-01T10:00:00Z\n")
    result = run(tmp_path / "ws.duckdb", "ingest", "events", str(file), *args)
    assert result.exit_code == 2 and message in result.output
