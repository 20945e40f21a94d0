"""Every fault ends in one line: directories given as --out, broken notebooks, unexpected errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segkit.cli import app

EXPORTS = [
    ["export", "segment", "engagement:inactive", "--as-of", "2024-12-31"],
    ["audience", "inactivity", "--as-of", "2024-12-31"],
    ["sendtime", "export", "--as-of", "2024-12-31"],
    ["access", "SUB-1"],
]


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("command", EXPORTS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("existing", [False, True], ids=["trailing-slash", "existing-dir"])
def test_out_naming_a_directory_is_refused_and_writes_nothing(tmp_path, command, existing):
    target = tmp_path / "dir"
    if existing:
        target.mkdir()
    given = f"{target}/" if not existing else str(target)
    result = _run("-w", str(tmp_path / "ws.duckdb"), *command, "--out", given)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "is a directory; give a file name" in lines[0]
    assert target.is_dir() == existing and not (tmp_path / "ws.duckdb").exists()
    assert not existing or list(target.iterdir()) == []


def test_corrupt_notebook_is_named_not_an_unknown_report(tmp_path):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    (notebooks / "good.ipynb").write_text(json.dumps(
        {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "x = 1"}],
         "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    broken = notebooks / "overview.ipynb"
    broken.write_text('{"cells": [{"cell_type": "code", "sou')  # cut off mid-write
    result = _run("report", "overview", "--notebooks", str(notebooks), "--out", str(tmp_path / "r"))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"notebook {broken} is not valid JSON" in lines[0]
    assert "unknown report" not in result.output
    assert not (tmp_path / "r").exists()


def test_unexpected_errors_are_one_line_unless_verbose(tmp_path, monkeypatch):
    import segkit.privacy

    def broken(*args, **kwargs):
        raise KeyError("boom\nsecond line")

    monkeypatch.setattr(segkit.privacy, "prune", broken)
    workspace = str(tmp_path / "ws.duckdb")
    _run("-w", workspace, "ingest", "events", str(Path(__file__).parents[1] / "data" / "bad" / "bom.csv"))
    quiet = _run("-w", workspace, "prune", "--older-than", "30d")
    assert quiet.exit_code == 1
    lines = quiet.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unexpected KeyError: 'boom")
    assert "--verbose" in lines[0]
    loud = _run("-w", workspace, "-v", "prune", "--older-than", "30d")
    assert isinstance(loud.exception, KeyError)  # the traceback, for a bug report


@pytest.fixture(scope="module")
def small_workspace(tmp_path_factory) -> Path:
    import pandas as pd

    from segkit.io import Workspace

    path = tmp_path_factory.mktemp("ws") / "ws.duckdb"
    ids = [f"s{i}" for i in range(20)]
    with Workspace(path) as ws:
        ws.ingest("subscribers", pd.DataFrame({
            "subscriber_id": ids, "email": [f"{i}@example.com" for i in ids],
            "signup_at": ["2024-01-01T00:00:00Z"] * 20, "consent": [True] * 20}))
        ws.ingest("events", pd.DataFrame({
            "subscriber_id": ids, "event_type": ["send"] * 20, "ts": ["2024-06-01T00:00:00Z"] * 20,
            "campaign_id": ["c1"] * 20}))
    return path


def test_export_to_a_read_only_folder_is_one_line_exit_1(small_workspace, tmp_path, read_only):
    folder = tmp_path / "exports"
    folder.mkdir()
    target = read_only(folder) / "inactive.csv"
    result = _run("-w", str(small_workspace), "export", "segment", "engagement:inactive",
                  "--as-of", "2024-12-31", "--out", str(target))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"{target}: Read-only file system" in lines[0]
    assert list(folder.iterdir()) == []


def test_export_to_a_full_disk_leaves_no_partial_file(small_workspace, tmpfs, fill_disk):
    disk = tmpfs("256k")
    filler = fill_disk(disk)
    result = _run("-w", str(small_workspace), "export", "segment", "engagement:inactive",
                  "--as-of", "2024-12-31", "--out", str(disk / "inactive.csv"))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0]
    assert [p.name for p in disk.iterdir()] == [filler.name]
