"""Exports: Python API and the `segkit export segment` command, with planted exclusions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit._timestamps import END_OF_DAY
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
    result = export_segment("everyone", synthetic_features, subs, rules=parse_rules(RULES),
                            events=synthetic_data.events, suppressed=[suppressed_email.upper()])
    audience = result.audience
    assert list(audience.columns) == ["subscriber_id", "email"]
    assert not set(planted) & set(audience["subscriber_id"])
    chosen = subs.set_index("subscriber_id").loc[audience["subscriber_id"]]
    assert chosen["consent"].all()
    assert chosen["unsubscribed_at"].isna().all()  # whenever they unsubscribed (consent is today's)
    unsubscribe_events = synthetic_data.events.query("event_type == 'unsubscribe'")
    assert not set(unsubscribe_events["subscriber_id"]) & set(audience["subscriber_id"])
    assert len(audience) + len(result.consent.excluded) == result.members
    # independent expectation of each member's first exclusion reason
    table = subs.set_index("subscriber_id").loc[members]
    gone = table["unsubscribed_at"].notna() | table.index.isin(unsubscribe_events["subscriber_id"])
    expected = pd.Series("", index=table.index, dtype=object)
    expected[~table["consent"].astype(bool)] = "no consent"
    expected[gone] = "unsubscribed"
    expected[(expected == "") & (table["email"] == suppressed_email)] = "suppressed"
    got = result.consent.excluded.set_index("subscriber_id")["reason"]
    assert got.sort_index().to_dict() == expected[expected != ""].sort_index().to_dict()
    assert result.consent.counts["no consent"] > 0 and result.consent.counts["unsubscribed"] > 0


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
    assert subs.loc[written["subscriber_id"], "unsubscribed_at"].isna().all()
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
    code = "from segkit.cli import app\napp(['audience', '--help'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "cart_abandonment" in done.stdout and "--out" in done.stdout


def test_unknown_rule_name_in_python(synthetic_features) -> None:
    with pytest.raises(ValidationError, match="did you mean 'everyone'"):
        export_segment("everyon", synthetic_features, pd.DataFrame({"email": []}), rules=parse_rules(RULES))


def _run(workspace: Path, *args: str):
    from segkit.cli import _segments  # noqa: F401  registers the commands
    from segkit.cli._app import app

    return CliRunner().invoke(app, ["--workspace", str(workspace), *args])


@pytest.mark.parametrize("trigger", ["cart_abandonment", "inactivity", "new_subscriber",
                                     "high_value_falling_engagement"])
def test_cli_audience_matches_python_and_passes_the_gate(workspace: Path, tmp_path: Path,
                                                         synthetic_data, trigger: str) -> None:
    from segkit.features import compute
    from segkit.io import Workspace
    from segkit.segments import trigger_audience

    as_of = "2024-12-20" if trigger == "new_subscriber" else "2024-12-31"
    out = tmp_path / "audience.csv"
    result = _run(workspace, "audience", trigger, "--as-of", as_of, "--out", str(out))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype={"subscriber_id": str})
    assert list(written.columns) == ["subscriber_id", "email", "trigger", "trigger_time", "action"]
    assert len(written) > 0 and (written["trigger"] == trigger).all()
    subs = synthetic_data.subscribers.set_index("subscriber_id")
    stamp = pd.Timestamp(as_of, tz="UTC") + END_OF_DAY  # a date on the command line is the end of that day
    assert subs.loc[written["subscriber_id"], "consent"].all()
    assert subs.loc[written["subscriber_id"], "unsubscribed_at"].isna().all()  # at any date
    assert (subs.loc[written["subscriber_id"], "email"].to_numpy() == written["email"]).all()
    assert "excluded" in result.output and "consent:" in result.output
    # the same audience from Python with every event (the command reads only the ones it needs)
    with Workspace(workspace, read_only=True) as ws:
        features = compute(ws, stamp)
        events, subscribers = ws.table("events"), ws.table("subscribers")
    expected = trigger_audience(features, events, subscribers, stamp, triggers=[trigger])
    assert sorted(written["subscriber_id"]) == sorted(expected.table["subscriber_id"])
    assert f"{len(expected.consent.excluded):,} excluded" in result.output


def test_cli_audience_nonempty_and_excludes(workspace: Path, tmp_path: Path) -> None:
    result = _run(workspace, "audience", "inactivity", "--as-of", "2024-12-31",
                  "--out", str(tmp_path / "a.csv"))
    written = pd.read_csv(tmp_path / "a.csv")
    assert len(written) > 0
    assert "unsubscribed" in result.output and "no consent" in result.output


def test_cli_audience_unknown_trigger_lists_valid_ones(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = _run(workspace, "audience", "falling_engagement", "--as-of", "2024-12-31",
                  "--out", str(out))
    assert result.exit_code == 2
    assert "unknown trigger 'falling_engagement'; did you mean 'high_value_falling_engagement'" in (
        result.output)
    for name in ("cart_abandonment", "inactivity", "new_subscriber"):
        assert name in result.output
    assert not out.exists()


def test_cli_export_value_potential(workspace: Path, tmp_path: Path) -> None:
    from segkit.features import compute
    from segkit.io import Workspace
    from segkit.segments import segment_members

    out = tmp_path / "high.csv"
    result = _run(workspace, "export", "segment", "value:high", "--as-of", "2024-12-31",
                  "--out", str(out))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype={"subscriber_id": str})
    with Workspace(workspace, read_only=True) as ws:
        features = compute(ws, pd.Timestamp("2024-12-31", tz="UTC"))
    members = segment_members(features, "value:high")
    assert 0 < len(written) <= len(members)
    assert set(written["subscriber_id"]) <= set(members)
    assert "excluded" in result.output


def test_trigger_names_checked_in_python(synthetic_data, synthetic_features) -> None:
    from segkit.segments import trigger_audience

    with pytest.raises(ValidationError, match="unknown trigger 'inactive'; did you mean 'inactivity'"):
        trigger_audience(synthetic_features, synthetic_data.events, synthetic_data.subscribers, AS_OF,
                         triggers=["inactive"])
    one = trigger_audience(synthetic_features, synthetic_data.events, synthetic_data.subscribers,
                           AS_OF, triggers="inactivity")
    every = trigger_audience(synthetic_features, synthetic_data.events, synthetic_data.subscribers,
                             AS_OF)
    assert set(one.table["trigger"]) == {"inactivity"}
    pd.testing.assert_frame_equal(
        one.table, every.table[every.table["trigger"] == "inactivity"].reset_index(drop=True))


def test_membership_snapshots_from_a_workspace(workspace: Path) -> None:
    from segkit.features import compute
    from segkit.io import Workspace
    from segkit.segments import lifecycle_stages, membership_snapshots

    dates = [AS_OF - pd.Timedelta(days=30), AS_OF]
    with Workspace(workspace, read_only=True) as ws:
        history = membership_snapshots(ws, None, dates, scheme="lifecycle")
        expected = lifecycle_stages(compute(ws, AS_OF)).astype(str)
        with pytest.raises(ValidationError, match="subscribers=None"):
            membership_snapshots(ws, ws.table("subscribers"), dates, scheme="lifecycle")
    got = history.to_frame()[AS_OF].dropna().astype(str)
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert history.transitions().to_numpy().sum() == len(history.to_frame().dropna())


def test_trigger_events_selects_what_the_triggers_read(workspace: Path) -> None:
    """Every unsubscribe up to as_of; cart adds and purchases only of the lookback + cart hours."""
    from segkit.io import Workspace
    from segkit.segments import trigger_events

    stamp = pd.Timestamp("2024-12-31", tz="UTC")
    with Workspace(workspace, read_only=True) as ws:
        got = trigger_events(ws, stamp, cart_hours=12, cart_lookback_days=5)
        every = ws.table("events")
    since = stamp - pd.Timedelta(days=5, hours=12)
    wanted = every[(every["ts"] <= stamp) & (
        (every["event_type"] == "unsubscribe")
        | (every["event_type"].isin(["cart_add", "purchase"]) & (every["ts"] > since)))]
    key = ["subscriber_id", "event_type", "ts"]
    expected = wanted[key].sort_values(key).reset_index(drop=True)
    assert len(expected) > 0 and set(expected["event_type"]) >= {"cart_add", "purchase"}
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True)[key],
                                  expected.astype(got.dtypes.to_dict()))
