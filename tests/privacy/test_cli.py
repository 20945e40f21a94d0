"""`segkit forget`, `segkit access`, `segkit prune` and `segkit ingest --allow-reingest`."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pandas as pd
from typer.testing import CliRunner

from segkit.cli import app
from segkit.io import Workspace

from .conftest import PLANTED_EMAIL, PLANTED_ID, subscribers_frame


def run(ws_path, *args):
    return CliRunner().invoke(app, ["--workspace", str(ws_path), *args])


def test_forget_command_and_reingest_flag(ws_path, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# erasure requests\n{PLANTED_ID}\n\ns007\n", encoding="utf-8")
    result = run(ws_path, "forget", "s001", "not-held", "--from-file", str(ids))
    assert result.exit_code == 0, result.output
    assert "forgot 3 of 4 subscriber(s) (+1 sharing their email)" in result.output
    assert "events: 72" in result.output and "not held (suppressed anyway): not-held" in result.output
    csv = tmp_path / "subscribers.csv"
    subscribers_frame().to_csv(csv, index=False)
    skipped = run(ws_path, "ingest", "subscribers", str(csv))
    assert skipped.exit_code == 0 and "suppressed (forgotten) 4" in skipped.output
    back = run(ws_path, "-v", "ingest", "subscribers", str(csv), "--allow-reingest")
    assert back.exit_code == 0 and "loaded 4" in back.output and "re-admitted" in back.output


def test_forget_errors_are_one_line_with_exit_code_2(ws_path, tmp_path):
    none = run(ws_path, "forget")
    assert none.exit_code == 2 and none.output.strip() == (
        "error: no subscriber ids given; pass ids or --from-file FILE (or --resume)")
    ghost = run(ws_path, "forget", "ghost")
    assert ghost.exit_code == 2 and ghost.output.startswith("error: none of the 1 subscriber id")
    assert len(ghost.output.strip().splitlines()) == 1
    unreadable = run(ws_path, "forget", "--from-file", str(tmp_path / "missing.txt"))
    assert unreadable.exit_code == 2 and "cannot read the id file" in unreadable.output
    missing = tmp_path / "nope.duckdb"
    gone = run(missing, "forget", "s001")
    assert gone.exit_code == 2 and "workspace not found" in gone.output and not missing.exists()


def test_access_command(ws_path, tmp_path):
    out = tmp_path / "dsar" / "canary.json"
    result = run(ws_path, "access", PLANTED_ID, "--out", str(out))
    assert result.exit_code == 0, result.output
    held = json.loads(out.read_text(encoding="utf-8"))
    assert held["row_counts"]["events"] == 36 and f"wrote {held['total_rows']} row(s)" in result.output
    assert PLANTED_EMAIL in out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # holds an email address: owner-only
    assert str(out.resolve()) in result.output and "personal data" in result.output
    nobody = run(ws_path, "access", "nobody", "--out", str(tmp_path / "n.json"))
    assert nobody.exit_code == 0 and "nothing is held" in nobody.output
    no_out = run(ws_path, "access", PLANTED_ID)
    assert no_out.exit_code == 2 and "--out" in no_out.output


def test_prune_command(ws_path):
    # a date on the command line is the end of that day (issue 18)
    cutoff = pd.Timestamp("2024-12-31 23:59:59.999999", tz="UTC") - pd.Timedelta(weeks=104)
    with Workspace(ws_path, read_only=True) as ws:
        old = int((ws.table("events")["ts"] < cutoff).sum())
    result = run(ws_path, "prune", "--older-than", "104w", "--as-of", "2024-12-31")
    assert result.exit_code == 0, result.output
    assert f"events: {old:,}" in result.output and f"before {cutoff.isoformat()}" in result.output
    bad = run(ws_path, "prune", "--older-than", "2 years")
    assert bad.exit_code == 2 and bad.output.startswith("error: cannot read age '2 years'")
    bad_date = run(ws_path, "prune", "--older-than", "30d", "--as-of", "soon")
    assert bad_date.exit_code == 2 and "soon" in bad_date.output


def test_forget_as_a_real_subprocess(ws_path):
    done = subprocess.run([sys.executable, "-m", "segkit", "--workspace", str(ws_path), "forget",
                           "s020"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "forgot 1 of 1 subscriber(s)" in done.stdout
    with Workspace(ws_path, read_only=True) as ws:
        assert "s020" not in set(ws.table("events")["subscriber_id"])


def test_forget_lists_report_runs_that_still_mention_the_id(ws_path, tmp_path):
    reports = tmp_path / "reports"
    for name, text in (("send_time/r1", f"subscriber_id\n{PLANTED_ID}\n"),  # an --include-pii export
                       ("ltv_churn/r2", '{"top_risk_ids": ["p-0123456789abcdef"]}'),  # pseudonyms
                       ("ltv_churn/r3", f'["x{PLANTED_ID}", "s0011"]')):  # not the whole token
        run_dir = reports / name
        run_dir.mkdir(parents=True)
        (run_dir / "run.json").write_text(json.dumps({"started_at": name}))
        (run_dir / "data.txt").write_text(text)
    result = run(ws_path, "forget", PLANTED_ID, "--reports", str(reports))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "  1 report run(s) made with --include-pii still mention these ids; delete them to "
        f"complete the erasure: {reports / 'send_time/r1'}")
    quiet = run(ws_path, "forget", "s001", "--reports", str(reports))
    assert quiet.exit_code == 0 and "report run" not in quiet.output
