"""Paths, environment variables and defaults in one place."""

from __future__ import annotations

import os
from pathlib import Path

WORKSPACE_ENV = "SEGKIT_WORKSPACE"
#: Environment variable naming another engine to read the tables from (``segkit --backend``).
BACKEND_ENV = "SEGKIT_BACKEND"
DEFAULT_WORKSPACE = Path("data") / "workspace.duckdb"
DEFAULT_REPORTS_DIR = Path("reports")
DEFAULT_WINDOWS_DAYS: tuple[int, ...] = (30, 90, 365)
#: Folder for files holding contact data written by the explorer (ignored by git).
EXPORTS_DIR = "exports"


def default_workspace_path() -> Path:
    """The workspace used when none is given: ``$SEGKIT_WORKSPACE`` or ``data/workspace.duckdb``."""
    return Path(os.environ.get(WORKSPACE_ENV, DEFAULT_WORKSPACE))


def running_in_ci() -> bool:
    """True under CI (the ``CI`` environment variable is set to a non-empty, non-false value)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def default_exports_dir(start: Path | None = None) -> Path:
    """Where contact-data files go by default: ``exports/`` under the root of the git repository
    holding ``start`` (default: the current directory; the root is the nearest folder with a
    ``.git``), or ``start/exports`` when it is not in a repository. Absolute."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder / EXPORTS_DIR
    return here / EXPORTS_DIR
