"""segkit.lab: where notebooks come from, the explorer copy, the save hook, the contents
manager, the `segkit lab` command line, and the committed notebooks' kernel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.errors import ValidationError
from segkit.lab import (
    CONTENTS_MANAGER,
    EXPLORER,
    SAVE_HOOK,
    copy_explorer,
    lab_command,
    notebook_file,
    source_notebooks,
    strip_tracked_outputs,
)
from segkit.lab import _lab as lab_module

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _executed(path: Path) -> dict:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    notebook.cells = [cell]
    notebook.metadata.update(widgets={"state": {}}, language_info={"name": "python", "version": "3.99"})
    return {"type": "notebook", "content": json.loads(nbformat.writes(notebook)), "path": str(path)}


def test_checkout_notebooks_are_the_source():
    assert source_notebooks() == REPO / "notebooks"
    assert notebook_file("segments.yaml") == REPO / "notebooks" / "segments.yaml"
    with pytest.raises(ValidationError, match="not one of segkit's notebook files"):
        notebook_file("nope.ipynb")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_declare_the_segkit_kernel(path):
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert metadata["kernelspec"] == {"display_name": "Python (segkit)", "language": "python",
                                      "name": "segkit"}
    assert metadata["language_info"] == {"name": "python"}


def test_explorer_first_cell_tells_a_newcomer_what_to_run():
    first = "".join(json.loads((REPO / "notebooks" / EXPLORER).read_text())["cells"][0]["source"])
    assert "segkit demo" in first and "Run All Cells" in first
    assert first.index("segkit demo") < 400  # near the top, not buried


def test_copy_explorer_copies_once_and_never_overwrites(tmp_path):
    target, copied = copy_explorer(tmp_path / "work")
    assert copied and target.read_bytes() == (REPO / "notebooks" / EXPLORER).read_bytes()
    target.write_text("mine")
    assert copy_explorer(tmp_path / "work") == (target, False) and target.read_text() == "mine"


def test_save_hook_strips_tracked_notebooks_only(tmp_path):
    class Manager:
        root_dir = str(REPO)

    tracked = _executed(REPO / "notebooks" / EXPLORER)
    strip_tracked_outputs(tracked, "notebooks/explore.ipynb", Manager())
    cell = tracked["content"]["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "widgets" not in tracked["content"]["metadata"]
    assert tracked["content"]["metadata"]["language_info"] == {"name": "python"}

    class UserManager:
        root_dir = str(tmp_path)

    mine = _executed(tmp_path / EXPLORER)
    strip_tracked_outputs(mine, EXPLORER, UserManager())
    assert mine["content"]["cells"][0]["outputs"]  # the user's copy keeps its outputs


def test_contents_manager_serves_the_kernels_language_info(tmp_path):
    from ipykernel.ipkernel import IPythonKernel

    from segkit.lab._contents import SegkitContentsManager

    (tmp_path / EXPLORER).write_bytes((REPO / "notebooks" / EXPLORER).read_bytes())
    manager = SegkitContentsManager(root_dir=str(tmp_path))
    model = asyncio.run(manager.get(EXPLORER))
    assert model["content"]["metadata"]["language_info"] == dict(IPythonKernel.language_info)
    assert manager.pre_save_hook is strip_tracked_outputs


def test_lab_command(monkeypatch, tmp_path):
    monkeypatch.setattr(lab_module, "running_as_root", lambda: False)
    command = lab_command(tmp_path, tmp_path / EXPLORER, port=9999, open_browser=False)
    assert f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}" in command
    assert f"--ContentsManager.pre_save_hook={SAVE_HOOK}" in command
    assert "--allow-root" not in command and command[-1] == EXPLORER
    assert {"--port=9999", "--no-browser"} <= set(command)
    monkeypatch.setattr(lab_module, "running_as_root", lambda: True)
    assert "--allow-root" in lab_command(tmp_path)


def test_cli_lab_dry_run_copies_and_explains(monkeypatch, tmp_path):
    monkeypatch.setattr(lab_module, "running_as_root", lambda: True)
    result = CliRunner().invoke(app, ["-w", str(tmp_path / "none.duckdb"), "lab", str(tmp_path),
                                      "--no-browser", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / EXPLORER).is_file() and "copied the explorer to" in result.output
    assert "run `segkit demo`" in result.output
    assert "running as root: starting JupyterLab with --allow-root" in result.output
    assert "jupyterlab" in result.output and "--allow-root" in result.output


def test_cli_lab_rejects_a_missing_folder(tmp_path):
    result = CliRunner().invoke(app, ["lab", str(tmp_path / "missing"), "--dry-run"])
    assert result.exit_code == 2 and "is not a folder" in result.output


def test_saving_a_tracked_notebook_through_jupyter_writes_no_outputs():
    """What autosave does (PUT /api/contents) on the repo's explore.ipynb: the file stays
    byte-identical although the saved model carries outputs and the kernel's language_info."""
    import urllib.request

    from _lab import JupyterLab  # tests/lab is on sys.path (conftest)

    path = REPO / "notebooks" / EXPLORER
    committed = path.read_bytes()
    notebook = json.loads(committed)
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    cell["execution_count"] = 1
    notebook["metadata"]["language_info"] = {"name": "python", "version": "3.99.0"}
    server = JupyterLab(REPO / "notebooks")
    try:
        request = urllib.request.Request(
            server.url(f"api/contents/{EXPLORER}"), method="PUT",
            data=json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        assert path.read_bytes() == committed
    finally:
        if path.read_bytes() != committed:
            path.write_bytes(committed)
        server.close()
