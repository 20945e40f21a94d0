"""``build_demo_workspace``: synthetic data loaded into a fresh workspace, replaced atomically."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from segkit.datasets import _demo, build_demo_workspace, synthetic

io = pytest.importorskip("segkit.io")

N = 300


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "workspace.duckdb"
    text = build_demo_workspace(path, n_subscribers=N, seed=0)
    return path, text


def test_demo_workspace_holds_every_table(built):
    path, text = built
    expected = synthetic(N, 0)
    with io.Workspace(path, read_only=True) as workspace:
        for name, frame in expected.tables().items():
            assert len(workspace.table(name)) == len(frame), name
            assert f"{name} from DataFrame: read {len(frame)}, loaded {len(frame)}" in text
        log = workspace.table("ingest_log")
        quarantine = workspace.table("quarantine")
    assert len(log) == 4 and quarantine.empty
    assert str(path) in text.splitlines()[0] and "built in" in text


def test_ingest_flags_the_planted_machine_opens(built):
    path, _ = built
    truth = synthetic(N, 0).truth
    with io.Workspace(path, read_only=True) as workspace:
        opens = workspace.connection.execute(
            "SELECT event_id, machine_open FROM events WHERE event_type = 'open'"
        ).df()
    planted = opens["event_id"].isin(truth.machine_open_event_ids)
    assert not (opens["machine_open"] & ~planted).any()  # no human open is flagged
    assert opens.loc[planted, "machine_open"].mean() > 0.95  # misses: the opener also clicked


def test_rebuild_replaces_and_a_failure_keeps_the_old_workspace(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    build_demo_workspace(path, n_subscribers=100, seed=1)
    build_demo_workspace(path, n_subscribers=120, seed=2)
    with io.Workspace(path, read_only=True) as workspace:
        assert len(workspace.table("subscribers")) == 120
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("generator failed")

    monkeypatch.setattr(_demo, "synthetic", broken)
    with pytest.raises(RuntimeError, match="generator failed"):
        build_demo_workspace(path, n_subscribers=100)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


def test_cli_demo_builds_the_workspace_and_renders_every_report(tmp_path):
    from segkit.cli import app
    from segkit.reports import available_reports

    path, out = tmp_path / "cli.duckdb", tmp_path / "reports"
    result = CliRunner().invoke(
        app, ["-w", str(path), "demo", "--n-subscribers", "100", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "demo workspace" in result.output and path.exists()
    assert f"{len(available_reports())} succeeded, 0 failed" in result.output
    for name in available_reports():
        assert list((out / name).glob("*/report.html")), f"{name} was not rendered"
    assert (out / "index.html").exists()
    (summary,) = (out / "recommendations").glob("*/summary.json")
    numbers = json.loads(summary.read_text())["numbers"]
    assert numbers["sufficient"] and numbers.get("problem") is None, numbers  # Online Retail lines
