"""Fixtures: small notebooks written into tmp dirs, and a small real workspace."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

# Report kernels skip this slow import (see segkit.reports._runner.KERNEL_STARTUP); so do tests.
sys.modules.setdefault("rfc3987_syntax", None)
sys.path.insert(0, str(Path(__file__).parent))

from _workspace import build_small_workspace  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def write_notebook(path: Path, parameters: str, *body: str, title: str = "# Test report") -> Path:
    """A report notebook: title cell, a ``parameters`` cell, then code cells."""
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell(title), cell,
                      *(nbformat.v4.new_code_cell(code) for code in body)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="session")
def small_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_workspace(tmp_path_factory.mktemp("ws") / "workspace.duckdb")
