"""Every export path (`segkit export segment`, `segkit sendtime export`, `segkit audience`,
``trigger_audience``, the send-time report's CSV) goes through the consent gate: planted unsubscribed, non-consented,
suppressed and forgotten subscribers never come out.

Positive control: the planted subscribers are chosen among those each path DOES export before
planting, so a path that skipped the gate would export them and fail.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.io import Workspace

AS_OF = "2024-12-01"
STAMP = pd.Timestamp(AS_OF, tz="UTC")
RULES = "segments:\n  - name: everyone\n    where: tenure_days >= 0\n"
KINDS = ("unsubscribed_at", "unsubscribe_event", "no_consent", "suppressed", "forgotten")


@pytest.fixture(scope="module")
def base(tmp_path_factory, synthetic_workspace) -> Path:
    return synthetic_workspace(tmp_path_factory.mktemp("consent") / "ws.duckdb", 300, seed=5)


def _segment_export(ws: Path, tmp: Path, suppressed: list[str]) -> set[str]:
    rules, suppress, out = tmp / "rules.yaml", tmp / "suppress.txt", tmp / "segment.csv"
    rules.write_text(RULES)
    suppress.write_text("\n".join(suppressed) + "\n")
    result = CliRunner().invoke(app, ["--workspace", str(ws), "export", "segment", "everyone",
                                      "--rules", str(rules), "--as-of", AS_OF, "--out", str(out),
                                      "--suppress", str(suppress)])
    assert result.exit_code == 0, result.output
    return set(pd.read_csv(out)["subscriber_id"])


def _sendtime_export(ws: Path, tmp: Path, suppressed: list[str] = ()) -> set[str]:
    suppress, out = tmp / "suppress-sendtime.txt", tmp / "sendtime.csv"
    suppress.write_text("".join(f"{line}\n" for line in suppressed))
    result = CliRunner().invoke(app, ["--workspace", str(ws), "sendtime", "export", "--as-of", AS_OF,
                                      "--out", str(out), "--suppress", str(suppress)])
    assert result.exit_code == 0, result.output
    return set(pd.read_csv(out)["subscriber_id"])


def _report_sendtime(ws: Path, tmp: Path) -> set[str]:
    """The send-time report's CSV (``send_times.csv`` beside the report)."""
    from segkit.reports.sections.sendtime import write_sendtime_export
    from segkit.sendtime import recommend

    with Workspace(ws, read_only=True) as workspace:
        recs = recommend(workspace, STAMP)
        subscribers, events = workspace.table("subscribers"), workspace.table("events")
    written = write_sendtime_export(recs, subscribers, events, tmp / f"report-{ws.stem}",
                                    include_pii=True)  # written only with --include-pii
    return set(pd.read_csv(written.path)["subscriber_id"])


def _audience_cli(ws: Path, tmp: Path, suppressed: list[str]) -> set[str]:
    suppress, out = tmp / "suppress-audience.txt", tmp / "audience.csv"
    suppress.write_text("\n".join(suppressed) + "\n")
    result = CliRunner().invoke(app, ["--workspace", str(ws), "audience", "inactivity", "--as-of",
                                      AS_OF, "--out", str(out), "--suppress", str(suppress)])
    assert result.exit_code == 0, result.output
    return set(pd.read_csv(out)["subscriber_id"])


def _triggers(ws: Path, suppressed: list[str]) -> set[str]:
    from segkit.features import compute
    from segkit.segments import trigger_audience

    with Workspace(ws, read_only=True) as workspace:
        features = compute(workspace, STAMP)
        events, subscribers = workspace.table("events"), workspace.table("subscribers")
    audience = trigger_audience(features, events, subscribers, STAMP, suppressed=suppressed)
    return set(audience.table["subscriber_id"])


def _plant(path: Path, chosen: dict[str, str]) -> list[str]:
    """Plant one subscriber per exclusion kind; return the suppression list (an email)."""
    from segkit.privacy import forget

    with Workspace(path) as ws:
        con = ws.connection
        con.execute("UPDATE subscribers SET unsubscribed_at = ? WHERE subscriber_id = ?",
                    [(STAMP - pd.Timedelta(days=3)).to_pydatetime(), chosen["unsubscribed_at"]])
        con.execute("UPDATE subscribers SET consent = false WHERE subscriber_id = ?",
                    [chosen["no_consent"]])
        ws.ingest("events", pd.DataFrame({"subscriber_id": [chosen["unsubscribe_event"]],
                                          "event_type": ["unsubscribe"],
                                          "ts": [(STAMP - pd.Timedelta(days=2)).isoformat()]}))
        email = con.execute("SELECT email FROM subscribers WHERE subscriber_id = ?",
                            [chosen["suppressed"]]).fetchall()[0][0]
        forget(ws, [chosen["forgotten"]], at=STAMP, compact=False)
    return [email.upper()]


@pytest.fixture(scope="module")
def outputs(base, tmp_path_factory):
    """Each path's output before and after planting."""
    tmp = tmp_path_factory.mktemp("outputs")
    before = {"segment": _segment_export(base, tmp, []), "sendtime": _sendtime_export(base, tmp),
              "triggers": _triggers(base, []), "audience": _audience_cli(base, tmp, []),
              "report_sendtime": _report_sendtime(base, tmp)}
    common = sorted(set.intersection(*before.values()))
    assert len(common) >= len(KINDS), "positive control: too few subscribers exported everywhere"
    chosen = dict(zip(KINDS, common[:: max(1, len(common) // len(KINDS))], strict=False))
    planted = tmp / "planted.duckdb"
    planted.write_bytes(base.read_bytes())
    suppressed = _plant(planted, chosen)
    after = {"segment": _segment_export(planted, tmp, suppressed),
             "sendtime": _sendtime_export(planted, tmp, suppressed),
             "triggers": _triggers(planted, suppressed),
             "audience": _audience_cli(planted, tmp, suppressed),
             "report_sendtime": _report_sendtime(planted, tmp)}
    return before, after, chosen


@pytest.mark.parametrize("path", ["segment", "triggers", "audience", "sendtime"])
def test_no_planted_subscriber_is_exported(outputs, path):
    before, after, chosen = outputs
    assert set(chosen.values()) <= before[path]
    assert not set(chosen.values()) & after[path]
    # only the planted ones dropped out
    assert before[path] - after[path] == set(chosen.values())


@pytest.mark.parametrize("path", ["report_sendtime"])
def test_sendtime_exports_apply_consent_unsubscribes_and_erasure(outputs, path):
    before, after, chosen = outputs
    gated = {chosen[k] for k in KINDS if k != "suppressed"}
    assert gated <= before[path] and not gated & after[path]
    assert before[path] - after[path] == gated


