"""The workspace overview report, executed with papermill on a small real workspace, then
opened in headless Chromium with the network disabled."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _workspace import HOSTILE_NAME
from typer.testing import CliRunner

from segkit.cli import app
from segkit.reports import available_reports, list_runs, run_report
from segkit.reports._html import vega_bundle
from segkit.reports.display import EMAIL_PATTERN

CHARTS_DRAWN = ("Array.from(document.querySelectorAll('.sk-chart')).every(d => {"
                " const g = d.querySelector('svg, canvas');"
                " return g && g.getBoundingClientRect().width > 0; })")
CHROMIUM_MISSING = not Path("/usr/bin/chromium").exists()


@pytest.fixture(scope="module")
def overview(small_workspace, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    run = run_report("workspace_overview", parameters={"weeks": "30"}, workspace=small_workspace,
                     out_dir=out)
    return run, out


def test_overview_is_an_available_report():
    assert "workspace_overview" in available_reports()


def test_overview_run_writes_html_summary_and_notebook(overview, small_workspace):
    run, out = overview
    assert run.ok, run.error
    assert {p.name for p in run.directory.iterdir()} == {"report.html", "summary.json",
                                                         "executed.ipynb", "run.json"}
    summary = json.loads(run.summary_path.read_text())
    expected = {"workspace": str(small_workspace), "backend": "", "weeks": 30, "top_timezones": 15,
                "latest_campaigns": 10}
    assert summary["parameters"] == expected and run.parameters == expected
    numbers = summary["numbers"]
    assert numbers["rows_subscribers"] == 500 and numbers["rows_quarantine"] == 3
    assert numbers["all_ingests_balanced"] is True and 0 < numbers["machine_open_share"] < 1
    assert re.fullmatch(r"[0-9a-f]{16}", summary["input_fingerprint"])
    assert summary["data_period"][0].startswith("2024-01-01")


def test_overview_html_is_offline_escaped_and_has_no_email(overview):
    run, _ = overview
    page = run.html_path.read_text()
    body = page.replace(vega_bundle(), "")
    assert not EMAIL_PATTERN.search(body)
    assert HOSTILE_NAME not in page  # the hostile campaign name never appears unescaped
    assert "&lt;script&gt;document.title='x'&lt;/script&gt;" in body
    assert body.count('class="sk-chart"') == 4
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?https?:", body)
    assert "from segkit" not in body  # no code inputs
    summary = json.loads(run.summary_path.read_text())
    assert summary["input_fingerprint"] in body and "Workspace overview" in body


def test_index_lists_the_run(overview):
    run, out = overview
    index = (out / "index.html").read_text()
    assert run.run_id in index and "succeeded" in index
    assert f"workspace_overview/{run.run_id}/report.html" in index
    assert list_runs(out)[0]["run_id"] == run.run_id


def test_cli_rejects_unknown_parameter_before_running(small_workspace, tmp_path):
    result = CliRunner().invoke(app, ["report", "workspace_overview", "-p", "wekes", "3",
                                      "--workspace", str(small_workspace), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no parameter 'wekes'" in result.output and "weeks (int, default 0)" in result.output
    assert not any(tmp_path.iterdir())


def test_cli_rejects_wrong_type_and_unknown_report(small_workspace, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["-w", str(small_workspace), "report", "workspace_overview",
                                 "-p", "weeks", "many", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "parameter 'weeks' must be int, got 'many'" in result.output
    result = runner.invoke(app, ["report", "overveiw", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown report 'overveiw'; available reports:" in result.output
    result = runner.invoke(app, ["report", "workspace_overview", "-p", "weeks", "--out", str(tmp_path)])
    assert result.exit_code == 2


def test_missing_workspace_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["report", "workspace_overview", "-w", str(tmp_path / "no.duckdb"),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 2 and "does not exist; build the demo workspace" in result.output


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM_MISSING, reason="needs /usr/bin/chromium")
def test_overview_in_headless_chromium(overview, tmp_path):
    from _browser import Browser

    run, out = overview
    browser = Browser()
    try:
        browser.open(run.html_path, settle=0.5)
        assert browser.wait_for(CHARTS_DRAWN)
        browser.pump(0.5)  # let late console messages arrive
        assert browser.evaluate("document.title") == "Workspace overview · segkit report"
        areas = browser.evaluate("""Array.from(document.querySelectorAll('.sk-chart')).map(d => {
            const g = d.querySelector('svg, canvas'); if (!g) return 0;
            const r = g.getBoundingClientRect(); return r.width * r.height; })""")
        assert len(areas) == 4 and all(a > 1000 for a in areas), areas
        assert browser.evaluate("document.querySelectorAll('.sk-chart svg .mark-rect path, "
                                ".sk-chart svg .mark-line path, .sk-chart svg .mark-area path').length") > 0
        assert browser.console_errors() == []
        external = [u for u in browser.requests() if not u.startswith(("file:", "data:", "blob:"))]
        assert external == []
        text = browser.evaluate("document.body.innerText")
        assert HOSTILE_NAME in text  # shown as text in "latest campaigns"; title unchanged above
        assert not EMAIL_PATTERN.search(text)
        assert browser.evaluate("document.querySelectorAll('.sk-toc a').length") >= 6
        browser.screenshot(tmp_path / "overview.png")
        browser.open(out / "index.html", settle=0.3)
        assert browser.console_errors() == [] and browser.evaluate(
            "document.querySelectorAll('tr.run').length") == 1
    finally:
        browser.close()


def test_report_command_as_a_real_subprocess(small_workspace, tmp_path):
    import subprocess
    import sys

    code = "from segkit.cli import main; main()"
    out = subprocess.run([sys.executable, "-c", code, "report", "workspace_overview", "-w",
                          str(small_workspace), "-p", "weeks", "1.5", "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert "parameter 'weeks' must be int, got '1.5'" in out.stderr and "Traceback" not in out.stderr
