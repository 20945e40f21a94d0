"""Exports: Python API and the `segkit export segment` command, with planted exclusions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.errors import ValidationError
from segkit.segments import export_segment, parse_rules, segment_members

from .conftest import AS_OF

RULES = "segments:\n  - name: everyone\n    where: tenure_days >= 0\n"


def test_python_export_never_includes_excluded(synthetic_data, synthetic_features) -> None:
    subs = synthetic_data.subscribers.copy()
    # plant: an engaged subscriber unsubscribes, another withdraws consent, a third is suppressed
    members = segment_members(synthetic_features, "everyone", parse_rules(RULES))
    planted = members[:3]
    subs.loc[subs["subscriber_id"] == planted[0], "unsubscribed_at"] = AS_OF - pd.Timedelta(days=1)
    subs.loc[subs["subscriber_id"] == planted[1], "consent"] = False
    suppressed_email = subs.loc[subs["subscriber_id"] == planted[2], "email"].iloc[0]
    result = export_segment("everyone", synthetic_features, subs, AS_OF, rules=parse_rules(RULES),
                            events=synthetic_data.events, suppressed=[suppressed_email.upper()])
    audience = result.audience
    assert list(audience.columns) == ["subscriber_id", "email"]
    assert not set(planted) & set(audience["subscriber_id"])
    chosen = subs.set_index("subscriber_id").loc[audience["subscriber_id"]]
    assert chosen["consent"].all()
    assert not (chosen["unsubscribed_at"] <= AS_OF).any()
    unsubscribe_events = synthetic_data.events.query("event_type == 'unsubscribe'")
    assert not set(unsubscribe_events["subscriber_id"]) & set(audience["subscriber_id"])
    assert len(audience) + len(result.consent.excluded) == result.members
    # independent expectation of each member's first exclusion reason
    table = subs.set_index("subscriber_id").loc[members]
    gone = (table["unsubscribed_at"] <= AS_OF) | table.index.isin(
        unsubscribe_events.loc[unsubscribe_events["ts"] <= AS_OF, "subscriber_id"])
    expected = pd.Series("", index=table.index, dtype=object)
    expected[~table["consent"].astype(bool)] = "no_consent"
    expected[gone] = "unsubscribed"
    expected[(expected == "") & (table["email"] == suppressed_email)] = "suppressed"
    got = result.consent.excluded.set_index("subscriber_id")["reason"]
    assert got.sort_index().to_dict() == expected[expected != ""].sort_index().to_dict()
    assert result.consent.counts["no_consent"] > 0 and result.consent.counts["unsubscribed"] > 0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_data) -> Path:
    from segkit.io import Workspace

    path = tmp_path_factory.mktemp("ws") / "ws.duckdb"
    keep = synthetic_data.subscribers["subscriber_id"].iloc[:300]
    with Workspace(path) as ws:
        ws.ingest("subscribers", synthetic_data.subscribers[synthetic_data.subscribers["subscriber_id"].isin(keep)])
        events = synthetic_data.events[synthetic_data.events["subscriber_id"].isin(keep)]
        ws.ingest("events", events.drop(columns="machine_open"))
    return path


def test_cli_export_writes_only_eligible(workspace: Path, tmp_path: Path, synthetic_data) -> None:
    from segkit.cli import _segments  # noqa: F401  registers the export group
    from segkit.cli._app import app

    rules = tmp_path / "segments.yaml"
    rules.write_text(RULES)
    suppress = tmp_path / "suppress.txt"
    suppress.write_text("# never email\ns000001\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, [
        "--workspace", str(workspace), "export", "segment", "everyone", "--rules", str(rules),
        "--as-of", "2024-12-31", "--out", str(out), "--suppress", str(suppress),
    ])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    subs = synthetic_data.subscribers.set_index("subscriber_id")
    assert list(written.columns) == ["subscriber_id", "email"]
    assert subs.loc[written["subscriber_id"], "consent"].all()
    assert not (subs.loc[written["subscriber_id"], "unsubscribed_at"] <= AS_OF).any()
    assert "s000001" not in set(written["subscriber_id"])
    assert "excluded" in result.output and "unsubscribed" in result.output


def test_cli_unknown_name_lists_valid_ones(workspace: Path, tmp_path: Path) -> None:
    from segkit.cli import _segments  # noqa: F401
    from segkit.cli._app import app

    result = CliRunner().invoke(app, [
        "--workspace", str(workspace), "export", "segment", "rfm:champs", "--as-of", "2024-12-31",
        "--out", str(tmp_path / "x.csv"),
    ])
    assert result.exit_code == 2
    assert "unknown segment 'rfm:champs'; did you mean 'rfm:champions'" in result.output
    assert "engagement:inactive" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_cli_subprocess_help() -> None:
    code = ("from segkit.cli._app import app\nfrom segkit.cli import _segments\n"
            "app(['export', 'segment', '--help'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--as-of" in done.stdout


def test_unknown_rule_name_in_python(synthetic_features) -> None:
    with pytest.raises(ValidationError, match="did you mean 'everyone'"):
        export_segment("everyon", synthetic_features, pd.DataFrame({"email": []}), AS_OF,
                       rules=parse_rules(RULES))
