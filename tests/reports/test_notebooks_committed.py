"""Committed notebooks carry no outputs, and every report declares its parameters."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from segkit.reports import notebook_parameters

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert dirty == [], f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_report_parameters_parse(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    if any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells):
        declared = notebook_parameters(path)
        if "workspace" in declared:
            assert declared["workspace"].default == "data/workspace.duckdb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_only_public_segkit_modules(path):
    """Notebooks are thin callers of the public API (private modules may change under them)."""
    import re

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    modules = re.findall(r"^\s*(?:from|import)\s+(segkit[\w.]*)", code, flags=re.M)
    assert modules, f"{path.name} imports nothing from segkit"
    private = [m for m in modules if any(part.startswith("_") for part in m.split("."))]
    assert private == [], f"{path.name} imports private modules {private}"
