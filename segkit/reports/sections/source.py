"""Which workspace a report reads: the DuckDB file, or another engine (``segkit --backend``).

Every report notebook opens its data with :func:`open_workspace` from its ``workspace`` and
``backend`` parameters. The runner gives ``backend`` with its secrets masked (it is recorded in
run.json, the page and the executed notebook) and the full URL in the kernel's environment
(:data:`~segkit.reports.display.BACKEND_URL_ENV`); run interactively, ``backend`` is used as typed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from segkit.reports.display import ASSUME_UTC_ENV, BACKEND_URL_ENV

__all__ = ["open_workspace", "reads_file"]


def open_workspace(workspace: str, backend: str = "") -> Any:
    """The workspace a report reads, read-only: :meth:`segkit.io.Workspace.connect` on
    ``backend`` when it is given, else the DuckDB file ``workspace`` (relative to the repository
    root; from ``notebooks/`` in JupyterLab its parent is tried too). Use it as a context manager.
    """
    from segkit.io import Workspace, shown_target

    if backend:
        given = os.environ.get(BACKEND_URL_ENV, "")
        url = given if given and shown_target(given) == backend else backend
        return Workspace.connect(url, assume_utc=os.environ.get(ASSUME_UTC_ENV) == "1")
    path = Path(workspace)
    if not path.exists() and (Path("..") / workspace).exists():  # opened from notebooks/ in JupyterLab
        path = Path("..") / workspace
    return Workspace(path, read_only=True)


def reads_file(workspace: Any) -> bool:
    """True for the DuckDB workspace file, False for a workspace on another engine (which has
    no ingest log, quarantine or DuckDB SQL)."""
    from segkit.io import ConnectedWorkspace

    return not isinstance(workspace, ConnectedWorkspace)
