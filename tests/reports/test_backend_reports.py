"""Reports rendered from another engine (``segkit --backend URL report ...``): the small report
workspace's tables copied into a throw-away Postgres (zone-less ``timestamp`` columns, no ingest
log or quarantine, as a warehouse holds them) give the same key numbers as the DuckDB file, and the
URL's password appears in nothing the run writes.

The DuckDB-file runs are the reference; pseudonyms are salted alike in both (the salt is set
for the module) so that lists of pseudonymous ids compare too. Skipped without Postgres.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.errors import ValidationError
from segkit.io import Workspace
from segkit.reports import run_report
from segkit.reports.display import PSEUDONYM_SALT_ENV

PASSWORD = "s3cret-Pa55"
#: Tables a warehouse would hold (the ingest log and quarantine live in the DuckDB file only).
COPIED = ("assignments", "campaigns", "events", "subscribers")
#: Numbers that describe the DuckDB file's ingest log and quarantine, absent from another engine.
FILE_ONLY = {"ingests", "rows_ingest_log", "rows_quarantine", "rows_quarantined", "rows_order_lines"}


@pytest.fixture(scope="module", autouse=True)
def same_pseudonyms():
    before = os.environ.get(PSEUDONYM_SALT_ENV)
    os.environ[PSEUDONYM_SALT_ENV] = "backend-reports"
    yield
    if before is None:
        os.environ.pop(PSEUDONYM_SALT_ENV, None)
    else:
        os.environ[PSEUDONYM_SALT_ENV] = before


@pytest.fixture(scope="module")
def postgres(postgres_server, postgres_copy, small_workspace):
    with Workspace(small_workspace, read_only=True) as ws:
        postgres_copy(postgres_server, {name: ws.table(name) for name in COPIED})
    return postgres_server


def _with_password(url: str) -> str:
    """The same server with a password in the URL (trust authentication ignores it)."""
    return url.replace("postgres://segkit@", f"postgres://segkit:{PASSWORD}@", 1)


def _numbers(run) -> dict:
    assert run.ok, run.error
    return {k: v for k, v in run.summary["numbers"].items() if k not in FILE_ONLY}


def _same(engine, file, where: str = "numbers") -> None:
    """Equal, floats to 1e-6 relative: an engine sums in its own order, and the CLV fits carry
    that last-digit difference into their estimates (counts, ids and labels are exact)."""
    if isinstance(file, dict):
        assert isinstance(engine, dict) and engine.keys() == file.keys(), where
        for key in file:
            _same(engine[key], file[key], f"{where}.{key}")
    elif isinstance(file, list):
        assert isinstance(engine, list) and len(engine) == len(file), where
        for number, (a, b) in enumerate(zip(engine, file, strict=True)):
            _same(a, b, f"{where}[{number}]")
    elif isinstance(file, float) and not isinstance(engine, bool):
        assert engine == pytest.approx(file, rel=1e-6, abs=1e-9, nan_ok=True), where
    else:
        assert engine == file, where


def _compare(name: str, small_workspace: Path, url: str, out: Path, **parameters) -> tuple:
    by_file = run_report(name, parameters=parameters, workspace=small_workspace, out_dir=out)
    by_engine = run_report(name, parameters=parameters, backend=url, out_dir=out)
    _same(_numbers(by_engine), _numbers(by_file))
    return by_file, by_engine


def test_overview_from_postgres_says_what_the_engine_lacks(postgres, small_workspace, tmp_path):
    by_file, by_engine = _compare("workspace_overview", small_workspace, postgres, tmp_path)
    numbers = by_engine.summary["numbers"]
    assert numbers["rows_events"] == by_file.summary["numbers"]["rows_events"] > 0
    assert numbers["ingests"] == 0 and "rows_ingest_log" not in numbers
    assert by_engine.summary["data_period"] == by_file.summary["data_period"]
    assert by_engine.parameters["backend"] == postgres and by_engine.parameters["workspace"] == ""
    page = by_engine.html_path.read_text()
    assert "No ingest log:" in page and "No quarantine record:" in page
    assert "No ingest log:" not in by_file.html_path.read_text()


def test_ab_test_from_postgres_equals_the_file(postgres, small_workspace, tmp_path):
    by_file, by_engine = _compare("ab_test", small_workspace, postgres, tmp_path)
    assert by_engine.summary["numbers"]["units"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["segment_analysis", "send_time", "ltv_churn"])
def test_analysis_reports_from_postgres_equal_the_file(name, postgres, small_workspace, tmp_path):
    _compare(name, small_workspace, postgres, tmp_path)


def test_cli_report_on_backend_never_writes_the_password(postgres, tmp_path):
    url = _with_password(postgres)
    result = CliRunner().invoke(app, ["--backend", url, "report", "workspace_overview",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"report.html", "run.json", "summary.json",
                                         "executed.ipynb", "index.html"}
    for path in written:
        assert PASSWORD not in path.read_text(errors="replace"), path
    record = json.loads(next(tmp_path.rglob("run.json")).read_text())
    assert record["parameters"]["backend"] == url.replace(PASSWORD, "***")


def test_a_failing_engine_is_one_line_without_the_password(tmp_path):
    url = f"postgres://segkit:{PASSWORD}@/nowhere?host={tmp_path}&port=1"
    run = run_report("workspace_overview", backend=url, out_dir=tmp_path)
    assert run.status == "failed" and "cannot connect to" in run.error
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert PASSWORD not in path.read_text(errors="replace"), path


def test_a_report_reading_duckdb_sql_refuses_a_backend(tmp_path):
    with pytest.raises(ValidationError, match="report recommendations does not take --backend"):
        run_report("recommendations", backend="postgres://segkit@/db", out_dir=tmp_path)
    assert not any(tmp_path.iterdir())
