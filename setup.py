"""Build hook: the wheel carries segkit's notebooks as package data (``segkit/_notebooks``).

The repository's ``notebooks/`` stays the one source: the report notebooks, ``explore.ipynb``
and ``segments.yaml`` are copied into the build at build time, never committed twice. Everything
else about the package is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
PATTERNS = ("*.ipynb", "segments.yaml")


class BuildWithNotebooks(build_py):
    """``build_py`` that also copies ``notebooks/`` into ``segkit/_notebooks`` of the build."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads notebooks/ in place
            return
        files = sorted(f for pattern in PATTERNS for f in NOTEBOOKS.glob(pattern))
        if not any(f.suffix == ".ipynb" for f in files):
            raise RuntimeError(f"no notebooks in {NOTEBOOKS}: the wheel would carry no reports")
        target = Path(self.build_lib) / "segkit" / "_notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for source in files:
            shutil.copyfile(source, target / source.name)


setup(cmdclass={"build_py": BuildWithNotebooks})
