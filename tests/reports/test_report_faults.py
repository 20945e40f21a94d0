"""Reports under real faults: a full disk, a read-only --out, many concurrent index writers."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_notebook
from typer.testing import CliRunner

from segkit.cli import app
from segkit.io import Workspace
from segkit.reports import build_index, run_report

CHART = ("import altair as alt, pandas as pd\nfrom segkit.reports.display import show_chart\n"
         "show_chart(alt.Chart(pd.DataFrame({'a': range(rows)})).mark_bar().encode(x='a'))")


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if a report kernel would start (the fault must be found before)."""
    import segkit.reports._runner as runner

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(runner, "_execute", refuse)


def _record(out: Path, name: str) -> dict:
    (record,) = out.glob(f"{name}/*/run.json")
    return json.loads(record.read_text())


def test_full_disk_leaves_no_truncated_report_and_records_the_failure(tmp_path, tmpfs):
    """report.html (~1 MB with the inlined chart library) does not fit on a 768 KB disk: no
    partial report.html is left, and run.json and the index say why."""
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "small.ipynb", "rows = 3", CHART)
    out = tmpfs("768k")
    run = run_report("small", out_dir=out, notebooks=notebooks)
    assert run.status == "failed" and "No space left on device" in run.error
    assert not run.html_path.exists()
    assert not [p for p in run.directory.iterdir() if p.name.endswith(".tmp")]
    assert _record(out, "small")["status"] == "failed"
    index = (out / "index.html").read_text()
    assert "1 run(s), 1 failed" in index and "No space left on device" in index


def test_read_only_out_fails_at_once_in_one_line(tmp_path, read_only, no_kernel):
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "small.ipynb", "rows = 3", "print(rows)")
    target = tmp_path / "reports"
    target.mkdir()
    out = read_only(target)
    result = CliRunner().invoke(app, ["report", "small", "--notebooks", str(notebooks),
                                      "--out", str(out)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Read-only file system" in lines[0], result.output
    assert list(target.iterdir()) == []


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """Another process with the workspace open for writing for ``seconds``."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def _build_many(out: str, times: int) -> int:
    failures = 0
    for _ in range(times):
        try:
            build_index(out)
        except OSError:
            failures += 1
    return failures


def test_concurrent_index_writers_never_collide(tmp_path):
    out = tmp_path / "reports"
    run_dir = out / "overview" / "20240101T000000Z-abcdef"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps(
        {"name": "overview", "run_id": "20240101T000000Z-abcdef", "status": "succeeded",
         "started_at": "2024-01-01T00:00:00+00:00", "parameters": {}}))
    context = multiprocessing.get_context("fork")
    with context.Pool(8) as pool:
        failures = pool.starmap(_build_many, [(str(out), 50)] * 8)
    assert sum(failures) == 0
    assert [p.name for p in out.iterdir() if p.is_file()] == ["index.html"]  # no temp left
    assert (out / "index.html").read_text().rstrip().endswith("</html>")


@pytest.mark.parametrize("mode", [0o022, 0o077])
def test_index_permissions_follow_the_umask(tmp_path, mode):
    code = (f"import os; os.umask({mode}); from segkit.reports import build_index; "
            f"print(oct(build_index({str(tmp_path)!r}).stat().st_mode & 0o777))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == oct(0o666 & ~mode)


def test_report_on_a_held_workspace_fails_before_the_kernel(tmp_path, no_kernel):
    workspace_path = tmp_path / "ws.duckdb"
    Workspace(workspace_path).close()
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "uses_ws.ipynb", f"workspace = {str(workspace_path)!r}",
                   "print(workspace)")
    holder = hold(workspace_path, 60)
    try:
        result = CliRunner().invoke(app, ["report", "uses_ws", "--notebooks", str(notebooks),
                                          "--out", str(tmp_path / "out"), "--lock-wait", "0.5",
                                          "--workspace", str(workspace_path)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"in use by process {holder.pid}" in lines[0]
    assert not (tmp_path / "out").exists()


SECRET = "root:$6$s4lt$9hQ2cLkZr0mEiqv5W1yXzP:19876:0:99999:7:::\ndaemon:*:19876:0:99999:7:::\n"


def test_an_arbitrary_file_as_csv_is_never_quoted_in_the_run(tmp_path):
    """``-p csv /etc/shadow``: the error names the problem, not the file's first line, in
    report.html, run.json and the index."""
    shadow = tmp_path / "shadow"
    shadow.write_text(SECRET)
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "reads_csv.ipynb", "csv = ''",
                   "from segkit.io import read_experiment_csv\nread_experiment_csv(csv)")
    out = tmp_path / "out"
    run = run_report("reads_csv", parameters={"csv": str(shadow)}, out_dir=out, notebooks=notebooks)
    assert run.status == "failed" and "missing column(s) arm" in run.error
    for path in (run.html_path, run.directory / "run.json", out / "index.html"):
        text = path.read_text()
        assert "s4lt" not in text and "daemon" not in text and "19876" not in text, path


def test_a_workspace_locked_in_the_middle_of_a_batch_is_recorded_as_that_run_failing(
        tmp_path, monkeypatch):
    import segkit.reports._runner as runner
    from segkit.reports import run_batch

    workspace_path = tmp_path / "ws.duckdb"
    Workspace(workspace_path).close()
    notebooks = tmp_path / "nbs"
    for name in ("first", "second"):
        write_notebook(notebooks / f"{name}.ipynb", f"workspace = {str(workspace_path)!r}",
                       "print(workspace)")
    holders = []

    def run_then_lock(*args, **kwargs):  # the first report runs, then another process writes
        holders.append(hold(workspace_path, 60))
        return None

    monkeypatch.setattr(runner, "_execute", run_then_lock)
    manifest = tmp_path / "batch.yaml"
    manifest.write_text("reports:\n  - first\n  - second\n")
    try:
        result = run_batch(manifest, notebooks=notebooks, out_dir=tmp_path / "out",
                           workspace=workspace_path, lock_wait_seconds=0.3)
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()
    assert [run.status for run in result.runs] == ["succeeded", "failed"]
    assert len(holders) == 1
    record = _record(tmp_path / "out", "second")
    assert record["status"] == "failed"
    assert f"in use by process {holders[0].pid}" in record["error"]
    assert "second" in (tmp_path / "out" / "index.html").read_text()
