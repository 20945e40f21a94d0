"""Every path that writes contact data decides consent from today's state, never from --as-of:
`segkit export segment`, `segkit audience`, `segkit sendtime export`, the send-time report's CSV
and the explorer's export, on a workspace where people unsubscribed, complained and bounced
*after* the as-of date.

Positive control: the planted subscribers are chosen among those every path writes before
planting, so a path that still read the state as of the date would write them and fail.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.io import Workspace

AS_OF = "2024-06-30"
STAMP = pd.Timestamp(AS_OF, tz="UTC")
LATER = STAMP + pd.Timedelta(days=60)
AFTER_DATA = pd.Timestamp("2025-01-05", tz="UTC")
RULES = "segments:\n  - name: everyone\n    where: tenure_days >= 0\n"
#: kind -> the reason the gate must give (None: must stay eligible)
KINDS = {"unsubscribed_later": "unsubscribed", "unsubscribe_event_later": "unsubscribed",
         "complaint": "complained", "hard_bounce": "hard bounced", "bounce": "hard bounced",
         "soft_bounces": "soft bounced", "resubscribed": None}
SUMMARY = re.compile(r"([\d,]+) excluded \(([^)]*)\)")


def _cli(ws: Path, *args: str):
    return CliRunner().invoke(app, ["--workspace", str(ws), *args])


def segment_cli(ws: Path, out: Path):
    rules = out.with_suffix(".yaml")
    rules.write_text(RULES)
    return _cli(ws, "export", "segment", "everyone", "--rules", str(rules), "--as-of", AS_OF, "--out", str(out))


def audience_cli(ws: Path, out: Path):
    return _cli(ws, "audience", "inactivity", "--as-of", AS_OF, "--out", str(out), "--inactive-days", "30")


def sendtime_cli(ws: Path, out: Path):
    return _cli(ws, "sendtime", "export", "--as-of", AS_OF, "--out", str(out))


def report_csv(ws: Path, out: Path) -> set[str]:
    from segkit.reports.sections.sendtime import sendtime_tables, write_sendtime_export
    from segkit.sendtime import recommend

    with Workspace(ws, read_only=True) as workspace:
        tables = sendtime_tables(workspace)
    recs = recommend(tables, STAMP)
    written = write_sendtime_export(recs, tables["subscribers"], tables["events"], out, include_pii=True)
    return set(pd.read_csv(written.path, dtype=str)["subscriber_id"])


def explorer_csv(ws: Path, out: Path) -> set[str]:
    from segkit.explore import ExplorerData, ExplorerState, explore, export_audience, write_audience

    data = ExplorerData(ws)
    try:
        result = explore(data, ExplorerState(as_of=STAMP, scheme="rules", rules=RULES), performance=False)
        written = write_audience(export_audience(data, result, "everyone"), out / "explorer.csv")
    finally:
        data.close()
    return set(pd.read_csv(written, dtype=str)["subscriber_id"])


CLI_PATHS = {"segment": segment_cli, "audience": audience_cli, "sendtime": sendtime_cli}


def outputs(ws: Path, folder: Path) -> tuple[dict[str, set[str]], dict[str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    written, printed = {}, {}
    for name, run in CLI_PATHS.items():
        result = run(ws, folder / f"{name}.csv")
        assert result.exit_code == 0, result.output
        written[name] = set(pd.read_csv(folder / f"{name}.csv", dtype=str)["subscriber_id"])
        printed[name] = result.output
    written["report"] = report_csv(ws, folder)
    written["explorer"] = explorer_csv(ws, folder)
    return written, printed


def plant(path: Path, chosen: dict[str, str]) -> None:
    with Workspace(path) as ws:
        con = ws.connection
        con.execute("UPDATE subscribers SET unsubscribed_at = ? WHERE subscriber_id = ?",
                    [LATER.to_pydatetime(), chosen["unsubscribed_later"]])
        con.execute("UPDATE subscribers SET unsubscribed_at = ? WHERE subscriber_id = ?",
                    [(STAMP - pd.Timedelta(days=30)).to_pydatetime(), chosen["resubscribed"]])
        day = pd.Timedelta(days=1)
        rows = [(chosen["unsubscribe_event_later"], "unsubscribe", LATER),
                (chosen["complaint"], "complaint", LATER),
                (chosen["hard_bounce"], "hard_bounce", LATER + day),
                (chosen["bounce"], "bounced", LATER),
                (chosen["resubscribed"], "resubscribe", STAMP + 10 * day),
                # after the end of the data (2024-12-31): no later delivery, open or click ends the run
                *[(chosen["soft_bounces"], "soft_bounce", AFTER_DATA + k * day) for k in range(3)]]
        report = ws.ingest("events", pd.DataFrame(rows, columns=["subscriber_id", "event_type", "ts"])
                           .assign(ts=lambda f: f["ts"].map(pd.Timestamp.isoformat)))
        assert report.rows_loaded == len(rows)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, synthetic_workspace):
    tmp = tmp_path_factory.mktemp("consent_paths")
    base = synthetic_workspace(tmp / "base.duckdb", 300, seed=5)
    before, _ = outputs(base, tmp / "before")
    common = sorted(set.intersection(*before.values()))
    assert len(common) >= 3 * len(KINDS), "positive control: too few subscribers written by every path"
    picks = np.random.default_rng(1).choice(common, len(KINDS), replace=False)
    chosen = dict(zip(KINDS, picks, strict=True))
    planted = tmp / "planted.duckdb"
    planted.write_bytes(base.read_bytes())
    plant(planted, chosen)
    after, printed = outputs(planted, tmp / "after")
    return before, after, printed, chosen, tmp


@pytest.mark.parametrize("path", ["segment", "audience", "sendtime", "report", "explorer"])
def test_later_unsubscribes_complaints_and_bounces_are_never_written(runs, path):
    before, after, _, chosen, _ = runs
    blocked = {chosen[kind] for kind, reason in KINDS.items() if reason}
    assert blocked <= before[path]
    assert not blocked & after[path], {k: v for k, v in chosen.items() if v in after[path]}
    assert before[path] - after[path] == blocked  # nobody else dropped out
    assert chosen["resubscribed"] in after[path]  # unsubscribed before the date, back after it


@pytest.mark.parametrize("path", list(CLI_PATHS))
def test_printed_reasons_add_up_and_name_each_cause(runs, path):
    before, after, printed, chosen, tmp = runs
    found = SUMMARY.search(printed[path])
    assert found, printed[path]
    total = int(found.group(1).replace(",", ""))
    counts = {label: int(n.replace(",", "")) for n, label in
              (part.split(" ", 1) for part in found.group(2).split(", "))}
    assert sum(counts.values()) == total > 0
    assert list(counts) == ["not in the subscribers table", "unsubscribed", "no consent", "complained",
                            "hard bounced", "soft bounced", "suppressed"]
    assert counts["complained"] == 1 and counts["hard bounced"] == 2 and counts["soft bounced"] == 1
    assert counts["unsubscribed"] >= 2
    assert "whatever the as-of date" in printed[path]


@pytest.mark.parametrize("path", list(CLI_PATHS))
def test_files_are_owner_only_and_the_message_says_personal_data(runs, path):
    *_, printed, _, tmp = runs
    target = (tmp / "after" / f"{path}.csv").resolve()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert f"to {target}; it holds personal data" in printed[path]


@pytest.mark.parametrize("path", list(CLI_PATHS))
def test_no_subscribers_table_exits_2_without_a_file(tmp_path, path):
    ws = tmp_path / "events-only.duckdb"
    with Workspace(ws) as workspace:
        workspace.ingest("events", pd.DataFrame({"subscriber_id": ["a", "b"], "event_type": ["send", "open"],
                                                 "ts": ["2024-06-01T10:00:00Z", "2024-06-01T11:00:00Z"]}))
    out = tmp_path / "out.csv"
    result = CLI_PATHS[path](ws, out)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the workspace has no subscribers table")
    assert "consent cannot be proven" in lines[0]
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
