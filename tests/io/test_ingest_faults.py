"""Ingest on a full disk (a real tmpfs): the real cause in one line, nothing half-loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from segkit.errors import StorageError
from segkit.io import Workspace


def _events(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(start, start + n)],
        "subscriber_id": [f"s{i % 500}" for i in range(start, start + n)],
        "event_type": "open",
        "ts": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(range(n), unit="min"),
        "properties": ['{"user_agent": "%s"}' % ("x" * 60)] * n,
    })


def _counts(path: Path) -> tuple[int, int]:
    with Workspace(path, read_only=True) as ws:
        con = ws.connection
        return (con.execute("SELECT count(*) FROM events").fetchall()[0][0],
                con.execute("SELECT count(*) FROM ingest_log").fetchall()[0][0])


@pytest.fixture
def full_workspace(tmpfs, fill_disk, tmp_path):
    """A workspace holding 1,000 events on a 3 MB tmpfs filled to the brim, and a CSV of 60,000
    more events outside it."""
    disk = tmpfs("3m")
    path = disk / "ws.duckdb"
    with Workspace(path) as ws:
        ws.ingest("events", _events(1000))
        ws.connection.execute("CHECKPOINT")
    source = tmp_path / "more.csv"
    _events(60_000, start=1000).to_csv(source, index=False)
    filler = fill_disk(disk)
    return path, source, filler


def test_disk_full_raises_the_real_cause_and_loads_nothing(full_workspace):
    path, source, filler = full_workspace
    with Workspace(path) as ws, pytest.raises(StorageError) as caught:
        ws.ingest("events", source)
    message = str(caught.value)
    assert "No space left on device" in message and "nothing was loaded" in message
    assert "rollback" not in message and "\n" not in message
    filler.unlink()
    assert _counts(path) == (1000, 1)
    with Workspace(path) as ws:  # the workspace still takes the same file once there is room
        assert ws.ingest("events", _events(10, start=1000)).rows_loaded == 10


def test_cli_disk_full_is_one_line_exit_1(full_workspace):
    path, source, filler = full_workspace
    done = subprocess.run(
        [sys.executable, "-m", "segkit", "-w", str(path), "ingest", "events", str(source)],
        capture_output=True, text=True,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ingest of "), done.stderr
    assert "No space left on device" in lines[0] and "Traceback" not in done.stderr
    filler.unlink()
    assert _counts(path) == (1000, 1)


@pytest.mark.parametrize("table", ["events", "subscribers"])
def test_errors_never_quote_the_first_line_of_an_arbitrary_file(tmp_path, table):
    from segkit.errors import InputError
    from segkit.io import read_experiment_csv

    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$s4lt$9hQ2cLkZr0mEiqv5W1yXzP:19876:0:99999:7:::\n"
                      "daemon:*:19876:0:99999:7:::\n")
    with Workspace(tmp_path / "ws.duckdb") as ws, pytest.raises(InputError) as ingest_error:
        ws.ingest(table, shadow)
    with pytest.raises(InputError) as experiment_error:
        read_experiment_csv(shadow)
    for error in (ingest_error.value, experiment_error.value):
        assert "s4lt" not in str(error) and "19876" not in str(error) and "one column" in str(error)


def test_column_names_are_still_listed_for_a_real_csv(tmp_path):
    from segkit.errors import InputError

    source = tmp_path / "events.csv"
    source.write_text("user,when,what,$6$x:y\nu1,2024-01-01T00:00:00Z,open,1\n")
    with Workspace(tmp_path / "ws.duckdb") as ws, pytest.raises(InputError) as caught:
        ws.ingest("events", source)
    assert "found: 'user', 'when', 'what' and 1 not shown" in str(caught.value)
    assert "$6$" not in str(caught.value)
