"""A forget killed with SIGKILL at any point is completed by the next opening of the workspace:
no erased byte stays in the database file, its write-ahead log or a leftover file.

Each test runs ``segkit forget`` as a real subprocess, pauses it at a named point
(``$SEGKIT_PAUSE_AT``, see :mod:`segkit._pause`), kills it there with ``kill -9`` and then
checks the raw bytes of every file beside the workspace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import segkit
from segkit._pause import PAUSE_ENV, PAUSED
from segkit.cli import app
from segkit.io import Workspace
from segkit.io._pending import journal_path, sibling
from segkit.privacy import forget

from .conftest import LINKED_ID, N_OTHERS, PLANTED_EMAIL, PLANTED_ID

NEEDLES = (PLANTED_ID.encode(), PLANTED_EMAIL.lower().encode(), LINKED_ID.encode())
REPO = Path(segkit.__file__).resolve().parents[1]


def _all_bytes(directory: Path) -> bytes:
    """Every file in the workspace's directory (database, .wal, journal, leftovers), lower-cased."""
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()).lower()


def _traces(directory: Path) -> list[bytes]:
    data = _all_bytes(directory)
    return [needle for needle in NEEDLES if needle in data]


def _forget_process(ws_path: Path, point: str, *ids: str) -> subprocess.Popen:
    env = {**os.environ, PAUSE_ENV: point,
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "segkit", "--workspace", str(ws_path), "forget", *ids],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_forget_at(ws_path: Path, point: str, *ids: str) -> None:
    """Run ``segkit forget ids`` until it pauses at ``point``, then SIGKILL it."""
    process = _forget_process(ws_path, point, *(ids or (PLANTED_ID,)))
    assert process.stderr is not None
    seen = []
    deadline = time.monotonic() + 120
    for line in process.stderr:
        seen.append(line)
        if line.startswith(PAUSED + point) or time.monotonic() > deadline:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    assert seen and seen[-1].startswith(PAUSED + point), "".join(seen)


def run(ws_path: Path, *args: str):
    return CliRunner().invoke(app, ["--workspace", str(ws_path), *args])


def _leftovers(ws_path: Path) -> list[str]:
    return sorted(p.name for p in ws_path.parent.iterdir() if p.name != ws_path.name)


POINTS = {  # point -> what is still in the files when the process dies there
    "forget-erased": "before the commit: every row still held",
    "forget-committed": "after the commit, before compacting: deleted values in free blocks",
    "compact-copied": "during compaction: old file and a half-made ws.duckdb.compact",
    "compact-replace": "during the rename: old file closed, compacted file complete beside it",
    "compact-replaced": "after the rename, before the journal is removed",
}


@pytest.mark.parametrize("point", list(POINTS))
def test_forget_killed_midway_is_completed_by_the_next_command(ws_path, tmp_path, point, caplog):
    kill_forget_at(ws_path, point)
    assert journal_path(ws_path).exists()  # the pending erasure was recorded durably
    assert not any(n in journal_path(ws_path).read_bytes().lower() for n in NEEDLES)
    if point != "compact-replaced":  # positive control: the byte search finds what remains
        assert _traces(ws_path.parent), POINTS[point]
    if point in ("compact-copied", "compact-replace"):
        assert sibling(ws_path, ".compact").exists()

    out = tmp_path.parent / f"{tmp_path.name}-access.json"  # outside the workspace directory
    result = run(ws_path, "access", "s001", "--out", str(out))  # a read-only command
    assert result.exit_code == 0, result.output
    assert "completed an interrupted forget of 1 subscriber id(s)" in caplog.text

    assert _traces(ws_path.parent) == []
    assert _leftovers(ws_path) == []  # no journal, .compact, .wal
    with Workspace(ws_path, read_only=True) as ws:
        subscribers = set(ws.table("subscribers")["subscriber_id"])
        assert len(subscribers) == N_OTHERS and PLANTED_ID not in subscribers
        assert ws.table("privacy_audit")["action"].eq("forget").sum() == 2  # planted + linked
        assert len(ws.table("suppression")) == 3
    again = run(ws_path, "forget", PLANTED_ID)  # no longer stuck at "nothing was erased"
    assert again.exit_code == 0, again.output
    assert again.output.strip() == (f"nothing left to erase: 1 subscriber id(s) already erased "
                                    f"earlier ({PLANTED_ID}); database file compacted")


def test_forget_resume_completes_and_a_repeated_forget_is_not_stuck(ws_path):
    kill_forget_at(ws_path, "forget-committed")
    resumed = run(ws_path, "forget", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "completed an interrupted forget" in resumed.output
    assert _traces(ws_path.parent) == [] and _leftovers(ws_path) == []
    nothing = run(ws_path, "forget", "--resume")
    assert nothing.exit_code == 0 and "no interrupted forget to complete" in nothing.output


def test_kill_before_commit_of_an_unknown_id_still_suppresses_it(ws_path):
    kill_forget_at(ws_path, "forget-erased", PLANTED_ID, "never-held-id")
    with Workspace(ws_path) as ws:  # a writable opening completes it too (Python API)
        assert ws.completed_erasure is not None and ws.completed_erasure.subjects == 2
        assert ws.completed_erasure.rows_removed > 0
        report = forget(ws, ["never-held-id", "s003"])
    assert report.already_erased == ("never-held-id",) and report.erased == 1
    assert _traces(ws_path.parent) == []


def test_prune_killed_after_commit_is_compacted_on_next_opening(ws_path):
    env = {**os.environ, PAUSE_ENV: "prune-committed",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "segkit", "--workspace", str(ws_path), "prune", "--older-than",
         "30d", "--as-of", "2024-01-01"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    assert process.stderr.readline().startswith(PAUSED + "prune-committed")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    with Workspace(ws_path) as ws:
        assert ws.completed_erasure is not None and ws.completed_erasure.action == "prune"
        assert ws.table("events")["ts"].min() >= pd.Timestamp("2023-12-02", tz="UTC")
    assert _leftovers(ws_path) == []


def test_an_id_that_is_already_erased_and_an_unknown_one_together(ws_path):
    with Workspace(ws_path) as ws:
        forget(ws, ["s005"])
        report = forget(ws, ["s005", "s006"])
        assert report.already_erased == ("s005",) and report.erased == 1 and not report.unknown
        assert "already erased earlier: s005" in report.summary()
        with pytest.raises(segkit.errors.InputError, match="nothing was erased"):
            forget(ws, ["ghost"])
        assert not journal_path(ws_path).exists()  # a rolled-back forget leaves no journal


@pytest.mark.slow
def test_forget_killed_at_random_moments_never_leaves_erased_bytes(built_workspace, tmp_path):
    """SIGKILL without a pause point, at random moments of a whole forget (commit, copy and
    rename included): every time, the next opening leaves no trace and no leftover file."""
    import random

    def fresh(name: str) -> Path:
        path = tmp_path / name / "ws.duckdb"
        path.parent.mkdir()
        path.write_bytes(built_workspace.read_bytes())
        return path

    started = time.monotonic()
    assert _forget_process(fresh("timing"), "none", PLANTED_ID).wait(timeout=120) == 0
    duration = time.monotonic() - started
    rng, outcomes = random.Random(17), []
    for attempt in range(10):
        ws_path = fresh(f"run{attempt}")
        process = _forget_process(ws_path, "none", PLANTED_ID)
        time.sleep(rng.uniform(0.4, 1.0) * duration)
        process.kill()
        process.wait(timeout=30)
        with Workspace(ws_path) as ws:  # completes whatever the kill interrupted
            held = PLANTED_ID in set(ws.table("subscribers")["subscriber_id"])
            completed = ws.completed_erasure is not None
        assert _leftovers(ws_path) == [], attempt
        if held:  # killed before the journal was written: nothing erased, nothing owed
            assert not completed and process.returncode != 0
        else:
            assert _traces(ws_path.parent) == [], attempt
        outcomes.append("finished" if process.returncode == 0 else
                        "completed on opening" if completed else "killed before starting")
    assert "completed on opening" in outcomes, outcomes


def test_a_completion_that_fails_keeps_the_journal_and_the_next_opening_retries(ws_path, monkeypatch):
    import segkit.io._workspace as module

    with Workspace(ws_path) as ws:
        forget(ws, [PLANTED_ID], compact=False)  # committed; the compaction is still owed
    assert journal_path(ws_path).exists() and _traces(ws_path.parent)

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        Workspace(ws_path, read_only=True)
    assert journal_path(ws_path).exists() and _leftovers(ws_path) == [journal_path(ws_path).name]
    monkeypatch.undo()
    with Workspace(ws_path, read_only=True) as ws:
        assert ws.completed_erasure is not None and ws.completed_erasure.rows_removed == 0
        assert PLANTED_ID not in set(ws.table("subscribers")["subscriber_id"])
    assert _traces(ws_path.parent) == [] and _leftovers(ws_path) == []
