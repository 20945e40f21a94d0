"""Fixtures of the JupyterLab browser tests: a folder with a small workspace, the explorer
copied by ``segkit lab``'s own copy function, and one report notebook; a running JupyterLab."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _lab import JupyterLab, LabPage, missing_browser

REPO = Path(__file__).resolve().parents[2]


def _build_small_workspace(path: Path, n_subscribers: int) -> Path:
    spec = importlib.util.spec_from_file_location("_reports_workspace", REPO / "tests/reports/_workspace.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_small_workspace(path, n_subscribers=n_subscribers, seed=3)


@pytest.fixture(scope="session")
def lab_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from segkit.lab import copy_explorer

    folder = tmp_path_factory.mktemp("lab")
    (folder / "data").mkdir()
    _build_small_workspace(folder / "data" / "workspace.duckdb", 600)
    copy_explorer(folder)
    shutil.copyfile(REPO / "notebooks" / "workspace_overview.ipynb", folder / "workspace_overview.ipynb")
    return folder


@pytest.fixture(scope="session")
def lab(lab_folder: Path) -> Iterator[JupyterLab]:
    if reason := missing_browser():
        pytest.skip(reason)
    server = JupyterLab(lab_folder)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def lab_page(lab: JupyterLab) -> Iterator[LabPage]:
    page = LabPage(lab, width=1280, height=900)
    try:
        yield page
    finally:
        page.close()
