"""Paths, environment variables and defaults in one place."""

from __future__ import annotations

import os
from pathlib import Path

WORKSPACE_ENV = "SEGKIT_WORKSPACE"
DEFAULT_WORKSPACE = Path("data") / "workspace.duckdb"
DEFAULT_REPORTS_DIR = Path("reports")
DEFAULT_WINDOWS_DAYS: tuple[int, ...] = (30, 90, 365)


def default_workspace_path() -> Path:
    """The workspace used when none is given: ``$SEGKIT_WORKSPACE`` or ``data/workspace.duckdb``."""
    return Path(os.environ.get(WORKSPACE_ENV, DEFAULT_WORKSPACE))


def running_in_ci() -> bool:
    """True under CI (the ``CI`` environment variable is set to a non-empty, non-false value)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
