"""``build_demo_workspace``: the synthetic demo data loaded into a fresh workspace file."""

from __future__ import annotations

import os
import time
from pathlib import Path

from segkit._progress import progress_bar
from segkit.datasets._synthetic import synthetic

__all__ = ["build_demo_workspace"]

#: Tables in load order: subscribers first, so assignments can check their subscriber exists.
DEMO_TABLES = ("subscribers", "campaigns", "events", "assignments")
GENERATE_WEIGHT = 100  # progress units for generating the data (each ingest reports 100)


def _remove_if_present(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            path.unlink()


def build_demo_workspace(
    path: str | os.PathLike[str],
    *,
    n_subscribers: int = 20_000,
    seed: int = 0,
    show_progress: bool = False,
) -> str:
    """Generate :func:`segkit.datasets.synthetic` data and load it into a fresh workspace.

    The workspace is built in a temporary file beside ``path`` and moved over ``path`` only once
    every table has loaded, so a failure or an interrupt leaves any existing workspace untouched.

    Parameters
    ----------
    path
        The workspace DuckDB file to create or replace.
    n_subscribers, seed
        Passed to :func:`segkit.datasets.synthetic`.
    show_progress
        Draw a progress bar on stderr (the CLI decides; library callers leave it off).

    Returns
    -------
    str
        A few lines: the rows loaded per table, the time taken and the workspace path.
    """
    from segkit.io import INGEST_PROGRESS_TOTAL, Workspace

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.building-{os.getpid()}")
    temp_wal = temp.with_name(temp.name + ".wal")
    _remove_if_present(temp, temp_wal)
    began = time.perf_counter()
    total = GENERATE_WEIGHT + INGEST_PROGRESS_TOTAL * len(DEMO_TABLES)
    lines = []
    try:
        with progress_bar("Building the demo workspace", total, enabled=show_progress) as advance:
            data = synthetic(n_subscribers, seed)
            advance(GENERATE_WEIGHT)
            tables = data.tables()
            with Workspace(temp) as workspace:
                for name in DEMO_TABLES:
                    report = workspace.ingest(name, tables[name], progress=advance)
                    lines.append(f"  {report}")
        _remove_if_present(target.with_name(target.name + ".wal"))
        os.replace(temp, target)
    finally:
        _remove_if_present(temp, temp_wal)
    elapsed = time.perf_counter() - began
    header = (
        f"demo workspace {target}: {n_subscribers:,} synthetic subscribers (seed {seed}), "
        f"built in {elapsed:.1f} s"
    )
    return "\n".join([header, *lines])
