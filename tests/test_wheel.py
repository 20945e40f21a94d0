"""The wheel carries the notebooks: built from the repo, installed into a fresh environment,
`segkit demo` renders every report from an empty folder and `segkit lab` copies the explorer.

Offline: the fresh venv gets the wheel with ``--no-deps`` and sees this environment's packages
through a ``.pth`` line (their own ``.pth`` files, such as an editable segkit, are not run) and
its Jupyter data files (nbconvert's templates) through ``$JUPYTER_PATH``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args[:3]}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def _source_tree(target: Path) -> Path:
    """What the build reads, copied: the build's own build/ folder stays out of the repo."""
    target.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(REPO / name, target / name)
    for folder in ("segkit", "notebooks"):
        shutil.copytree(REPO / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return target


@pytest.mark.slow
def test_wheel_installs_and_runs_demo_from_an_empty_folder(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "SEGKIT_NOTEBOOKS", "SEGKIT_WORKSPACE", "VIRTUAL_ENV")}
    source = _source_tree(tmp_path / "src")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
          str(source)], env=env)
    (wheel,) = (tmp_path / "dist").glob("segkit-*.whl")
    packaged = {Path(n).name for n in zipfile.ZipFile(wheel).namelist() if "/_notebooks/" in n}
    assert packaged == {p.name for p in (REPO / "notebooks").glob("*.ipynb")} | {"segments.yaml"}

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
          "--no-index", str(wheel)], env=env)
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    (Path(site.stdout.strip()) / "_segkit_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    empty = tmp_path / "project"
    empty.mkdir()
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # nbconvert's templates
    where = _run([str(python), "-c", "import segkit.lab as l; print(l.source_notebooks())"],
                 cwd=empty, env=env)
    assert where.stdout.strip().startswith(str(venv)), where.stdout  # the wheel's copy, not the repo

    _run([str(venv / "bin" / "segkit"), "demo", "--n-subscribers", "1500"], cwd=empty, env=env,
         timeout=900)
    runs = [json.loads(p.read_text()) for p in (empty / "reports").glob("*/*/run.json")]
    assert sorted(r["name"] for r in runs) == sorted(
        p.stem for p in (REPO / "notebooks").glob("*.ipynb") if p.stem != "explore")
    assert all(r["status"] == "succeeded" for r in runs), runs
    assert (empty / "reports" / "index.html").is_file()

    lab = _run([str(venv / "bin" / "segkit"), "lab", "--no-browser", "--dry-run"], cwd=empty, env=env)
    assert (empty / "explore.ipynb").read_bytes() == (REPO / "notebooks" / "explore.ipynb").read_bytes()
    assert "copied the explorer to" in lab.stdout
