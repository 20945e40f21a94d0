"""A report whose analysis does not apply to the data ends with one honest line, not an error:
``segkit.reports.display.not_applicable`` → run status ``not_applicable``, exit code 0, the page
cut after that line; a notebook that really fails still fails (exit code 1)."""

from __future__ import annotations

import json
import re

from conftest import write_notebook
from typer.testing import CliRunner

from segkit.cli import app
from segkit.reports import build_index, run_report

STOPS = (
    "from segkit.reports.display import not_applicable, show_markdown\n"
    "show_markdown('First section.')\n"
    "if not have_data:\n"
    "    not_applicable('the data hold no experiments (none ingested)', parameters={'have_data': have_data})",
    "show_markdown('Second section, never reached.')\n1 / 0",
)


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_not_applicable_is_a_complete_run_that_says_why(tmp_path):
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "stops.ipynb", "have_data = False", *STOPS)
    out = tmp_path / "out"
    run = run_report("stops", out_dir=out, notebooks=notebooks)
    assert run.ok and run.status == "not_applicable" and run.error is None
    assert run.reason == "the data hold no experiments (none ingested)"
    assert run.summary_line().startswith("stops not applicable in ")
    assert run.summary_line().endswith("(the data hold no experiments (none ingested))")
    text = _text(run.html_path.read_text(encoding="utf-8"))
    assert "Not applicable: the data hold no experiments (none ingested)." in text
    assert "First section." in text
    assert "Second section" not in text and "Traceback" not in text and "ReportNotApplicable" not in text
    assert "An Exception was encountered" not in text and "failed" not in text
    assert json.loads(run.summary_path.read_text())["numbers"] == {
        "applicable": False, "reason": "the data hold no experiments (none ingested)"}
    record = json.loads((run.directory / "run.json").read_text())
    assert record["status"] == "not_applicable" and record["reason"] == run.reason
    assert "0 failed" in build_index(out).read_text()


def test_the_cli_exits_0_when_not_applicable_and_1_when_a_notebook_fails(tmp_path):
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "stops.ipynb", "have_data = False", *STOPS)
    base = ["report", "stops", "--notebooks", str(notebooks), "--out", str(tmp_path / "out")]
    skipped = CliRunner().invoke(app, base)
    assert skipped.exit_code == 0, skipped.output
    assert "stops not applicable in" in skipped.output and "no experiments" in skipped.output
    failed = CliRunner().invoke(app, [*base, "-p", "have_data", "True"])
    assert failed.exit_code == 1, failed.output
    assert "stops failed in" in failed.output and "ZeroDivisionError" in failed.output
