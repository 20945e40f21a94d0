"""A workspace held by another process, and one with a really corrupted data block."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segkit.errors import CorruptWorkspaceError, WorkspaceLockedError
from segkit.io import Workspace, wait_for_workspace

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """Another process with the workspace open for writing for ``seconds``."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


@pytest.fixture
def workspace_path(tmp_path) -> Path:
    path = tmp_path / "ws.duckdb"
    Workspace(path).close()
    return path


def test_a_held_workspace_fails_fast_naming_the_holder(workspace_path):
    holder = hold(workspace_path, 60)
    try:
        started = time.perf_counter()
        with pytest.raises(WorkspaceLockedError, match=rf"in use by process {holder.pid} .*waited 0.5 s"):
            wait_for_workspace(workspace_path, wait_seconds=0.5)
        assert time.perf_counter() - started < 3
    finally:
        holder.kill()
        holder.wait()


def test_waiting_ends_when_the_holder_lets_go(workspace_path):
    holder = hold(workspace_path, 1.0)
    try:
        started = time.perf_counter()
        wait_for_workspace(workspace_path, wait_seconds=20)
        assert 0.5 < time.perf_counter() - started < 15
    finally:
        holder.wait()


def _corrupt_events_block(path: Path) -> None:
    """Overwrite bytes inside a data block of ``events`` (DuckDB: 3 header pages of 4 KiB, then
    256 KiB blocks), leaving the catalog readable."""
    con = duckdb.connect(str(path), read_only=True)
    block = con.execute(
        "SELECT max(block_id) FROM pragma_storage_info('events') WHERE column_name = "
        "'subscriber_id' AND block_id >= 0").fetchall()[0][0]
    size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    con.close()
    with path.open("r+b") as handle:
        handle.seek(3 * 4096 + block * size + 2048)
        handle.write(b"\xa5" * 512)


@pytest.fixture
def corrupt_workspace(tmp_path) -> Path:
    path = tmp_path / "corrupt.duckdb"
    n = 50_000
    with Workspace(path) as ws:
        ws.ingest("subscribers", pd.DataFrame({
            "subscriber_id": ["SUB-00001-1"], "email": ["a@example.com"],
            "signup_at": ["2024-01-01T00:00:00Z"], "consent": [True]}))
        ws.ingest("events", pd.DataFrame({
            "event_id": [f"e{i}" for i in range(n)],
            "subscriber_id": [f"SUB-{i % 2000:05d}-{i}" for i in range(n)],
            "event_type": "open",
            "ts": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(range(n), unit="min"),
        }))
        ws.connection.execute("CHECKPOINT")
    _corrupt_events_block(path)
    return path


def test_corrupt_block_is_a_corrupt_workspace_error(corrupt_workspace):
    with Workspace(corrupt_workspace, read_only=True) as ws, pytest.raises(CorruptWorkspaceError):
        from segkit.errors import environment_fault

        try:
            ws.connection.execute("SELECT count(DISTINCT subscriber_id) FROM events").fetchall()
        except duckdb.Error as error:
            raise environment_fault(error) from error


@pytest.mark.parametrize("command", [
    ["forget", "SUB-00001-1"],
    ["export", "segment", "engagement:inactive", "--as-of", "2024-12-31", "--out", "{tmp}/x.csv"],
])
def test_corrupt_block_ends_forget_and_export_in_one_line(corrupt_workspace, tmp_path, command):
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    done = subprocess.run([sys.executable, "-m", "segkit", "-w", str(corrupt_workspace), *args],
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert (f"the workspace file {corrupt_workspace} is damaged (Corrupt database file: computed "
            "checksum") in lines[0]
    assert "restore it from a backup" in lines[0]
    assert not (tmp_path / "x.csv").exists()
