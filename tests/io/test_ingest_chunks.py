"""Streaming ingest: a CSV read in many tiny chunks gives exactly the one-chunk result.

Bounded memory comes from reading and validating a CSV ``CHUNK_ROWS`` rows at a time; these
tests make the chunks a few rows long, so a small file goes through many chunks, and compare
everything an ingest produces (counts, quarantine with row numbers and raw rows, notes, stored
rows, the log) with the same file read as one chunk, including duplicates and conflicts whose
rows sit in different chunks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segkit.errors import InputError
from segkit.io import Workspace, _ingest, _read

ROWS = [  # event_id, subscriber_id, event_type, ts, campaign_id, value, page (an extra column)
    ("e1", "s1", "send", "2024-01-01T10:00:00Z", "c1", "", ""),
    ("e2", "s1", "opened", "2024-01-01T10:00:03Z", "c1", "", ""),  # a machine open (3 s)
    ("e3", "s2", "purchase", "2024-01-02T10:00:00+01:00", "", "-12.5", "home"),  # a return
    ("e4", "s2", "open", "2024-13-01", "c1", "", ""),  # row 4: bad timestamp
    ("e1", "s1", "send", "2024-01-01T10:00:00Z", "c1", "", ""),  # row 5: duplicate of row 1
    ("", "s3", "click", "2024-01-03T10:00:00Z", "c2", "", "pricing"),
    ("e7", "s3", "teleport", "2024-01-03T10:00:00Z", "c2", "", ""),  # unknown event type
    ("e2", "s9", "open", "2024-01-01T10:00:03Z", "c1", "", ""),  # row 8: conflicts with row 2
    ("", "s3", "click", "2024-01-03T10:00:00Z", "c2", "", "pricing"),  # duplicate of row 6
    ("e10", "s4", "refund", "2024-01-04T10:00:00Z", "", "5", ""),  # positive refund
    ("e11", "", "open", "2024-01-04T10:00:00Z", "c1", "", ""),  # missing subscriber
    ("e12", "s4", "purchase", "2024-01-04T10:00:00Z", "", "NaN", ""),  # NaN revenue
    ("e13", "s5", "purchase", "2024-01-05T10:00:00Z", "", "-3", ""),  # another return
    ("e3", "s2", "purchase", "2024-01-02T10:00:00+01:00", "", "-12.5", "home"),  # dup of row 3
    ("e15", "s5", "click", "2024-01-05T10:00:00Z", "c3", "1", ""),
]
COLUMNS = ["event_id", "subscriber_id", "event_type", "ts", "campaign_id", "value", "page"]


def _write(path: Path, rows: list[tuple], columns: list[str] = COLUMNS) -> Path:
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def _ingest_with(monkeypatch, chunk_rows: int, db: Path, table: str, *sources: Path,
                 **options) -> tuple[list, dict[str, pd.DataFrame], int]:
    """Ingest ``sources`` in turn with chunks of ``chunk_rows`` rows; the reports, the stored
    tables and how many chunks were validated."""
    monkeypatch.setattr(_read, "CHUNK_ROWS", chunk_rows)
    calls = []
    validate = _ingest.validate

    def counting(frame, *args, **kwargs):
        calls.append(len(frame))
        return validate(frame, *args, **kwargs)

    monkeypatch.setattr(_ingest, "validate", counting)
    with Workspace(db) as ws:
        reports = [ws.ingest(table, source, **options) for source in sources]
        tables = {name: ws.table(name) for name in (table, "quarantine", "ingest_log")}
    return reports, tables, len(calls)


def _comparable(reports: list, tables: dict[str, pd.DataFrame]) -> tuple:
    summary = [(r.rows_read, r.rows_loaded, r.rows_duplicate, r.rows_quarantined,
                r.rows_suppressed, r.notes) for r in reports]
    log = tables["ingest_log"].drop(columns=["started_at", "finished_at", "source", "options"])
    key = tables[next(iter(tables))].columns[0]
    stored = tables[next(iter(tables))].sort_values(key).reset_index(drop=True)
    quarantine = tables["quarantine"].drop(columns=["source"])
    return summary, [r.quarantine for r in reports], stored, quarantine, log


def _assert_same(one: tuple, many: tuple) -> None:
    assert one[0] == many[0]
    for a, b in zip(one[1], many[1], strict=True):
        pd.testing.assert_frame_equal(a, b)
    for a, b in zip(one[2:], many[2:], strict=True):
        pd.testing.assert_frame_equal(a, b)


def _whole_and_chunked(monkeypatch, tmp_path: Path, chunk_rows: int, table: str,
                       *sources: Path) -> tuple[tuple, tuple]:
    """Ingest ``sources`` into two workspaces, as one chunk and in ``chunk_rows``-row chunks;
    assert everything they produce is the same and return both results."""
    one = _ingest_with(monkeypatch, 10**6, tmp_path / "one.duckdb", table, *sources)
    many = _ingest_with(monkeypatch, chunk_rows, tmp_path / "many.duckdb", table, *sources)
    _assert_same(_comparable(*one[:2]), _comparable(*many[:2]))
    return one, many


@pytest.mark.parametrize("chunk_rows", [1, 2, 4])
def test_events_in_tiny_chunks_equal_one_chunk(tmp_path, monkeypatch, chunk_rows):
    source = _write(tmp_path / "events.csv", ROWS)
    again = _write(tmp_path / "again.csv", ROWS[::-1])  # a re-ingest: nothing new
    one, many = _whole_and_chunked(monkeypatch, tmp_path, chunk_rows, "events", source, again)
    assert one[2] == 2 and many[2] == 2 * -(-len(ROWS) // chunk_rows)  # really in chunks
    first, second = many[0]
    # N = L + D + Q, and the cross-chunk duplicates and conflict are found
    assert (first.rows_read, first.rows_loaded, first.rows_duplicate, first.rows_quarantined) == (
        15, 7, 3, 5
    )
    assert (second.rows_loaded, second.rows_duplicate) == (0, 10)  # idempotent
    reasons = first.quarantine.set_index("row_number")["reason"].to_dict()
    assert reasons[8] == "duplicate event_id with different values (first on row 2)"
    assert reasons[4].startswith("not an ISO 8601 timestamp")
    stored = many[1]["quarantine"]
    raw = stored[stored["ingest_id"] == 1].set_index("row_number")["raw"]
    assert json.loads(raw[8])["subscriber_id"] == "s9"  # a load-time conflict: read again
    assert json.loads(raw[4])["ts"] == "2024-13-01"
    assert "3 purchase(s) with a negative value loaded as refunds" in first.notes  # row 14 too
    assert "extra column(s) page kept in properties" in first.notes
    events = many[1]["events"].set_index("event_id")
    assert events.loc["e2", "machine_open"]  # machine opens see rows of every chunk


def test_parquet_in_tiny_chunks_equals_one_chunk(tmp_path, monkeypatch):
    frame = pd.DataFrame(ROWS, columns=COLUMNS).replace("", None)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")  # float in any chunk
    frame.index = frame.index + 100  # written as pandas metadata; ignored like pd.read_parquet
    frame.to_parquet(tmp_path / "events.parquet")
    source = tmp_path / "events.parquet"
    one, many = _whole_and_chunked(monkeypatch, tmp_path, 4, "events", source)
    assert (one[2], many[2]) == (1, 4)
    assert many[0][0].quarantine["row_number"].tolist() == [4, 7, 8, 11]
    # an integer extra column would print 5 or 5.0 by chunk (nulls): such a file is read whole
    frame["page"] = [1, None] * 7 + [1]
    frame.to_parquet(tmp_path / "ints.parquet")
    whole = _ingest_with(monkeypatch, 4, tmp_path / "ints.duckdb", "events", tmp_path / "ints.parquet")
    assert whole[2] == 1  # one chunk


def test_subscribers_in_chunks_equal_one_chunk(tmp_path, monkeypatch):
    columns = ["subscriber_id", "email", "timezone", "consent", "tier"]
    rows = [
        ("s1", "a@x.org", "Europe/Paris", "yes", "gold"),
        ("s2", "b@x.org", "Mars/Base", "no", ""),  # bad time zone
        ("s3", "c@x.org", "UTC", "maybe", "silver"),  # bad boolean
        ("s1", "a@x.org", "Europe/Paris", "yes", "gold"),  # duplicate of row 1
        ("s4", "d-at-x.org", "UTC", "1", ""),  # not an email
        ("s5", "e@x.org", "Asia/Tokyo", "0", "bronze"),
        ("s5", "e@x.org", "Asia/Tokyo", "1", "bronze"),  # conflicts with row 6
    ]
    source = _write(tmp_path / "subscribers.csv", rows, columns)
    changed = _write(tmp_path / "changed.csv", [rows[0], ("s5", "e@x.org", "UTC", "0", "")], columns)
    one, many = _whole_and_chunked(monkeypatch, tmp_path, 2, "subscribers", source, changed)
    assert many[2] == 4 + 1
    first = many[0][0]
    assert (first.rows_loaded, first.rows_duplicate, first.rows_quarantined) == (2, 1, 4)
    assert first.quarantine.set_index("row_number")["reason"][7] == (
        "duplicate subscriber_id with different values (first on row 6)"
    )


def test_subscribers_parquet_with_booleans_in_chunks(tmp_path, monkeypatch):
    frame = pd.DataFrame({
        "subscriber_id": [f"s{i}" for i in range(9)],
        "consent": [True, False, None, True, True, False, None, None, True],  # object by chunk
        "signup_at": pd.date_range("2024-01-01", periods=9, freq="D", tz="UTC"),
    })
    frame.loc[4, "subscriber_id"] = None
    frame.to_parquet(tmp_path / "subscribers.parquet")
    source = tmp_path / "subscribers.parquet"
    one, many = _whole_and_chunked(monkeypatch, tmp_path, 2, "subscribers", source)
    assert (one[2], many[2]) == (1, 5)
    stored = many[1]["subscribers"].set_index("subscriber_id")["consent"]
    assert stored["s1"] == False and pd.isna(stored["s2"]) and stored["s8"] == True  # noqa: E712


def test_structural_errors_in_a_later_chunk_name_the_file_line(tmp_path, monkeypatch):
    monkeypatch.setattr(_read, "CHUNK_ROWS", 2)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("subscriber_id,event_type,ts\n" + "s1,open,2024-01-01T00:00:00Z\n" * 5
                      + "s1,open,2024-01-01T00:00:00Z,extra\n")
    naive = tmp_path / "naive.csv"
    naive.write_text("subscriber_id,event_type,ts\n" + "s1,open,2024-01-01T00:00:00Z\n" * 5
                     + "s1,open,2024-01-01 00:00:00\n")
    with Workspace(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(InputError, match=r"line 7 has 4 fields but the header has 3"):
            ws.ingest("events", ragged)
        with pytest.raises(InputError, match=r"'2024-01-01 00:00:00' on row 6\)"):
            ws.ingest("events", naive)
        assert len(ws.table("events")) == 0 and len(ws.table("ingest_log")) == 0
        assert ws.ingest("events", naive, tz="UTC").rows_loaded == 1  # 6 times the same event
        assert ws.connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_segkit_staged'"
        ).fetchall()[0][0] == 0  # the staging table does not outlive the ingest


def test_header_only_csv_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(_read, "CHUNK_ROWS", 2)
    source = tmp_path / "empty.csv"
    source.write_text("subscriber_id,event_type,ts\n")
    with Workspace(tmp_path / "ws.duckdb") as ws:
        report = ws.ingest("events", source)
    assert report.rows_read == 0 and "the file has a header but no data rows" in report.notes


def test_chunks_are_staged_as_parquet_beside_the_workspace_and_removed(tmp_path, monkeypatch):
    """A file read in chunks is staged as compressed Parquet files in ``ws.duckdb.ingest/``
    (not an uncompressed temporary table that spills); the directory is gone after the ingest,
    whether it loaded or failed."""
    monkeypatch.setattr(_read, "CHUNK_ROWS", 4)
    seen: list[list[str]] = []
    finish = _ingest._Staging.finish

    def spying(self, con):
        seen.append(sorted(p.name for p in self.directory.iterdir()))
        return finish(self, con)

    monkeypatch.setattr(_ingest._Staging, "finish", spying)
    path = tmp_path / "ws.duckdb"
    with Workspace(path) as ws:
        assert ws.ingest("events", _write(tmp_path / "e.csv", ROWS)).rows_loaded == 7
        chunks = [f"chunk-{k:06d}.parquet" for k in range(4)]
        assert seen == [[*chunks, "raw"], chunks]  # the rows, then the problems' raw rows
        assert not _ingest.staging_directory(path).exists()
        ragged = tmp_path / "ragged.csv"
        ragged.write_text("subscriber_id,event_type,ts\n" + "s1,open,2024-01-01T00:00:00Z\n" * 5
                          + "s1,open,2024-01-01T00:00:00Z,extra\n")
        with pytest.raises(InputError, match="line 7 has 4 fields"):
            ws.ingest("events", ragged)
        assert not _ingest.staging_directory(path).exists()


def test_staging_left_by_a_killed_ingest_is_removed_by_the_next_opening(tmp_path):
    path = tmp_path / "ws.duckdb"
    Workspace(path).close()
    left = _ingest.staging_directory(path)
    left.mkdir()
    (left / "chunk-000000.parquet").write_bytes(b"PAR1 rows of a killed ingest")
    with Workspace(path, read_only=True):  # a reader leaves it (a writer may be running)
        assert left.exists()
    with Workspace(path) as ws:
        assert not left.exists()
        assert ws.ingest("events", _write(tmp_path / "e.csv", ROWS)).rows_loaded == 7


@pytest.mark.parametrize("slice_rows", [10**9, 2])
def test_repeated_keys_are_settled_on_the_keys_when_hashes_collide(tmp_path, monkeypatch,
                                                                   slice_rows):
    """The distinct-hash count only proves keys distinct; fewer hashes than rows (a repeat, or a
    collision: simulated by hashing every key to one value) is settled on the keys, so distinct
    keys still take the plain path and repeated ones the ranking window; in one pass or with
    the hashes kept and counted in slices."""
    from segkit.io import _load

    rank, kinds = _load._rank, []
    monkeypatch.setattr(_load, "KEY_SLICE_ROWS", slice_rows)

    def colliding(con, schema, rows):
        con.execute("CREATE OR REPLACE TEMP MACRO hash(a) AS 42")
        try:
            kinds.append(rank(con, schema, rows))
            return kinds[-1]
        finally:
            con.execute("DROP MACRO IF EXISTS temp.hash")

    monkeypatch.setattr(_load, "_rank", colliding)
    unique = [row for row in ROWS if row[0] not in {"", "e1", "e2", "e3"}]
    with Workspace(tmp_path / "ws.duckdb") as ws:
        report = ws.ingest("events", _write(tmp_path / "unique.csv", unique))
        again = ws.ingest("events", _write(tmp_path / "rows.csv", ROWS))
    assert kinds == ["VIEW", "TABLE"]
    assert (report.rows_read, report.rows_duplicate) == (len(unique), 0)
    assert report.rows_loaded + report.rows_quarantined == len(unique)
    assert "duplicate event_id with different values (first on row 2)" in set(
        again.quarantine["reason"])


@pytest.mark.parametrize("limit", ["1GB", "6GB"])
def test_memory_limit_is_lowered_for_the_ingest_only(workspace, tmp_path, monkeypatch, limit):
    con = workspace.connection
    con.execute(f"SET memory_limit = '{limit}'")

    def setting() -> float:
        return _ingest._size_bytes(con.execute("SELECT current_setting('memory_limit')")
                                   .fetchall()[0][0])

    before, during = setting(), []
    validate = _ingest.validate
    monkeypatch.setattr(_ingest, "validate", lambda *a, **k: during.append(setting())
                        or validate(*a, **k))
    workspace.ingest("events", _write(tmp_path / "e.csv", ROWS))
    assert during == [pytest.approx(min(before, _ingest._size_bytes(_ingest.INGEST_MEMORY_LIMIT)), rel=0.1)]
    assert setting() == pytest.approx(before, rel=0.03)  # DuckDB shows it to 0.1 GiB


# Peak RSS of the child itself: VmHWM starts afresh at exec, whereas ru_maxrss keeps the
# high-water mark of the forked parent (pytest, holding the generated frame).
CHILD = textwrap.dedent(
    """
    import json, sys
    from segkit.io import Workspace, _ingest, _read
    _read.CHUNK_ROWS = int(sys.argv[3])
    _ingest.INGEST_MEMORY_LIMIT = sys.argv[4]
    with Workspace(sys.argv[1]) as ws:
        report = ws.ingest("events", sys.argv[2])
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()
    print(json.dumps({"rss_mb": int(status[0]) / 1024, "loaded": report.rows_loaded}))
    """
)


def _peak(db: Path, csv: Path, chunk_rows: int, memory_limit: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(db), str(csv), str(chunk_rows),
                           memory_limit],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_peak_rss_in_chunks_is_well_below_a_whole_file_read(tmp_path):
    """4M events: read in chunks of 250k rows with DuckDB limited to 150 MB, the ingest's peak
    RSS is well below that of the same ingest reading the whole file into pandas (chunk size 0)
    with DuckDB unconstrained, and both load the same rows."""
    csv = _write_events(tmp_path / "events.csv", 4_000_000)
    chunked = _peak(tmp_path / "chunked.duckdb", csv, 250_000, "150MB")
    whole = _peak(tmp_path / "whole.duckdb", csv, 0, "20GB")
    assert chunked["loaded"] == whole["loaded"] > 3_900_000
    assert chunked["rss_mb"] < 0.6 * whole["rss_mb"], (chunked, whole)


def _write_events(csv: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2024-01-01", tz="UTC").value // 10**9
    pd.DataFrame({
        "subscriber_id": "s" + pd.Series(rng.integers(0, 50_000, n)).astype(str),
        "event_type": rng.choice(["send", "open", "click", "purchase"], n),
        "ts": pd.to_datetime(start + rng.integers(0, 10**7, n), unit="s", utc=True)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "campaign_id": "c" + pd.Series(rng.integers(0, 300, n)).astype(str),
        "page": rng.choice(["home", "pricing", ""], n),
    }).to_csv(csv, index=False)
    return csv
