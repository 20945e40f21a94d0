"""A real process SIGKILLed in the middle of an ingest leaves the workspace exactly as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd

from segkit.io import Workspace

# Runs the ingest in a child process; once rows are written inside the open transaction (the
# progress callback fires after the load step), it drops a marker and stalls so the parent can
# kill it at a known point.
CHILD = textwrap.dedent(
    """
    import pathlib, sys, time
    from segkit.io import Workspace

    workspace, source, marker = sys.argv[1:4]
    calls = []

    def progress(advance):
        calls.append(advance)
        if len(calls) == 3:  # read, validate, load: rows are in the uncommitted transaction
            pathlib.Path(marker).write_text("loaded, not committed")
            time.sleep(120)

    Workspace(workspace).ingest("events", source, progress=progress)
    """
)


def _big_csv(path, n: int) -> None:
    rng = np.random.default_rng(3)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**7, n), "s")
    pd.DataFrame({
        "subscriber_id": "s" + pd.Series(rng.integers(0, 2000, n)).astype(str),
        "event_type": rng.choice(["send", "open", "click"], n),
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "campaign_id": "c" + pd.Series(rng.integers(0, 50, n)).astype(str),
    }).to_csv(path, index=False)


def _snapshot(path) -> dict[str, pd.DataFrame]:
    with Workspace(path) as ws:
        return {name: ws.table(name) for name in ("events", "ingest_log", "quarantine")}


def test_sigkill_mid_ingest_rolls_back_and_rerun_completes(tmp_path):
    workspace = tmp_path / "ws.duckdb"
    with Workspace(workspace) as ws:
        ws.ingest("events", pd.DataFrame({"subscriber_id": ["a"], "event_type": ["open"],
                                          "ts": ["2024-01-01T00:00:00Z"]}))
    before = _snapshot(workspace)
    source, marker = tmp_path / "big.csv", tmp_path / "marker"
    _big_csv(source, 30_000)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(workspace), str(source), str(marker)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never reached the load step"
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    after = _snapshot(workspace)
    for name, table in before.items():
        pd.testing.assert_frame_equal(after[name], table, obj=name)

    with Workspace(workspace) as ws:
        report = ws.ingest("events", source)
        assert report.rows_read == 30_000 and report.rows_quarantined == 0
        assert report.rows_loaded + report.rows_duplicate == 30_000
        assert len(ws.table("events")) == 1 + report.rows_loaded
        assert ws.table("ingest_log")["ingest_id"].tolist() == [1, 2]
