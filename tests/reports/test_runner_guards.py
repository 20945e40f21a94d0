"""Runner guards: email addresses never reach the HTML without --include-pii; cell timeouts."""

from __future__ import annotations

import json

from conftest import write_notebook

from segkit.reports import run_report


def test_html_with_an_email_is_not_written_unless_pii_is_included(tmp_path):
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "leaky.ipynb", "who = 'ann'", "print(f'contact: {who}@example.com')")
    out = tmp_path / "out"
    blocked = run_report("leaky", out_dir=out, notebooks=notebooks)
    assert blocked.status == "failed" and "would contain 1 email address" in blocked.error
    assert not blocked.html_path.exists() and blocked.notebook_path.exists()

    allowed = run_report("leaky", out_dir=out, notebooks=notebooks, include_pii=True)
    assert allowed.ok and "ann@example.com" in allowed.html_path.read_text()
    statuses = sorted(json.loads(p.read_text())["status"] for p in out.glob("leaky/*/run.json"))
    assert statuses == ["failed", "succeeded"]


def test_cell_timeout_fails_the_run(tmp_path):
    notebooks = tmp_path / "nbs"
    write_notebook(notebooks / "slow.ipynb", "seconds = 60", "import time\ntime.sleep(seconds)")
    run = run_report("slow", out_dir=tmp_path / "out", notebooks=notebooks, timeout_seconds=2)
    assert run.status == "failed" and "timed out" in run.error.lower()
    assert run.duration_seconds < 40


def test_files_the_notebook_writes_with_an_email_are_removed_unless_pii_is_included(tmp_path):
    notebooks = tmp_path / "nbs"
    write_notebook(
        notebooks / "export.ipynb", "who = 'ann'",
        "import os, pathlib\n"
        "run = pathlib.Path(os.environ['SEGKIT_REPORT_DIR'])\n"
        "(run / 'ids.csv').write_text(f'subscriber_id\\n{who}@example.com\\n')\n"
        "(run / 'counts.csv').write_text('segment,n\\nvip,3\\n')\n"
        "(run / 'summary.json').write_text('{\"numbers\": {\"top\": [\"' + who + '@example.com\"]}}')")
    out = tmp_path / "out"
    blocked = run_report("export", out_dir=out, notebooks=notebooks)
    assert blocked.status == "failed"
    assert blocked.error.startswith("ids.csv, summary.json held email address(es) and were removed")
    assert sorted(p.name for p in blocked.directory.iterdir()) == [
        "counts.csv", "executed.ipynb", "report.html", "run.json"]
    allowed = run_report("export", out_dir=out, notebooks=notebooks, include_pii=True)
    assert allowed.ok and "ann@example.com" in (allowed.directory / "ids.csv").read_text()
