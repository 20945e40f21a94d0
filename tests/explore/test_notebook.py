"""notebooks/explore.ipynb runs top to bottom through papermill in a real kernel."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "explore.ipynb"


def _build_small_workspace(path: Path) -> Path:
    spec = importlib.util.spec_from_file_location("_reports_workspace", REPO / "tests/reports/_workspace.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_small_workspace(path, n_subscribers=200, seed=2)


def test_notebook_is_interactive_not_a_report():
    from segkit.reports import available_reports

    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["metadata"]["segkit"] == {"report": False}
    assert "explore" not in available_reports(REPO / "notebooks")
    assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code")


def test_notebook_runs_in_a_real_kernel(tmp_path):
    papermill = pytest.importorskip("papermill")
    from segkit.reports._runner import KERNEL_STARTUP, _kernel_name

    workspace = _build_small_workspace(tmp_path / "workspace.duckdb")
    out = tmp_path / "explore.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"workspace": str(workspace), "scheme": "lifecycle"},
        kernel_name=_kernel_name(), language="python", cwd=str(REPO), progress_bar=False,
        execution_timeout=300, extra_arguments=[f"--IPKernelApp.exec_lines={KERNEL_STARTUP}"],
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    bundles = [o.get("data", {}) for o in outputs]
    assert any("application/vnd.jupyter.widget-view+json" in b for b in bundles)  # the explorer
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "lifecycle as of 2024-12-31T19:26:35+00:00: 200 subscribers" in text  # the last event, as in reports
    assert "name: lifecycle_active" in text  # the saved-rule YAML
    html = "".join("".join(b.get("text/html", "")) for b in bundles)
    assert "churned" in html and "<table" in html
