"""Run a list of reports from a YAML manifest; one failure does not stop the others.

Manifest (``reports.yaml``)::

    reports:                      # or the list itself at the top level
      - report: workspace_overview
        parameters: {weeks: 26}
      - report: ab_test
        parameters: {experiment: exp_1}

Every entry is validated (report name, parameter names and types, workspace) before the first
report runs, so a typo fails fast instead of after an hour of work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segkit._config import DEFAULT_REPORTS_DIR
from segkit.errors import InputError, ValidationError, WorkspaceLockedError
from segkit.reports._index import build_index
from segkit.reports._runner import (
    LOCK_WAIT_SECONDS,
    NOT_APPLICABLE,
    WORKSPACE_PARAMETER,
    ReportRun,
    prepare_parameters,
    record_unstarted_run,
    run_report,
    wait_for_workspace,
)

__all__ = ["BatchResult", "load_manifest", "run_batch"]


@dataclass(frozen=True)
class BatchResult:
    """The runs of a batch, in manifest order."""

    runs: tuple[ReportRun, ...]
    index_path: Path

    @property
    def failed(self) -> tuple[ReportRun, ...]:
        return tuple(r for r in self.runs if not r.ok)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        lines = [run.summary_line() for run in self.runs]
        skipped = sum(r.status == NOT_APPLICABLE for r in self.runs)
        done = len(self.runs) - len(self.failed) - skipped
        lines.append(f"{done} succeeded, " + (f"{skipped} not applicable, " if skipped else "")
                     + f"{len(self.failed)} failed; index: {self.index_path}")
        return "\n".join(lines)


def _entries(data: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(data, Mapping) and "reports" in data:
        data = data["reports"]
    if not isinstance(data, list) or not data:
        raise ValidationError(f"{where}: expected a non-empty list of {{report, parameters}} entries")
    entries = []
    for number, entry in enumerate(data, start=1):
        if isinstance(entry, str):
            entry = {"report": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("report"), str):
            raise ValidationError(f"{where}: entry {number} needs a 'report' name, got {entry!r}")
        extra = sorted(set(entry) - {"report", "parameters"})
        if extra:
            raise ValidationError(
                f"{where}: entry {number} has unknown key(s) {', '.join(extra)}; "
                "valid keys: report, parameters"
            )
        parameters = entry.get("parameters") or {}
        if not isinstance(parameters, Mapping):
            raise ValidationError(f"{where}: entry {number} parameters must be a mapping")
        entries.append({"report": entry["report"], "parameters": dict(parameters)})
    return entries


def load_manifest(source: str | Path | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Read a manifest file (YAML) or accept a list of ``{report, parameters}`` mappings."""
    if isinstance(source, (str, Path)):
        from segkit._yaml import YAMLError, load_yaml

        path = Path(source)
        try:
            data = load_yaml(path.read_text(encoding="utf-8"), f"manifest {path}")
        except OSError as error:
            raise InputError(f"{path}: cannot read the manifest ({error.strerror})") from error
        except YAMLError as error:
            raise InputError(f"{path}: not valid YAML ({error})") from error
        return _entries(data, str(path))
    return _entries(list(source), "manifest")


def run_batch(
    manifest: str | Path | Sequence[Mapping[str, Any]],
    *,
    workspace: str | Path | None = None,
    out_dir: str | Path = DEFAULT_REPORTS_DIR,
    include_pii: bool = False,
    notebooks: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    timeout_seconds: float | None = None,
    jobs: int = 1,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    backend: str | None = None,
    assume_utc: bool = False,
) -> BatchResult:
    """Run every report of the manifest and regenerate the index after each.

    A report that fails is recorded (``status == "failed"``, executed notebook kept) and the
    batch goes on; check :attr:`BatchResult.ok`. So is one whose workspace another process
    locked after the batch began (it is waited for up to ``lock_wait_seconds`` first). ``timeout_seconds`` limits each cell.
    ``jobs`` reports run at once (each in its own kernel process; kernel start-up and imports
    dominate small reports, so 2 jobs on 2 cores overlap them); results keep manifest order.
    ``backend`` and ``assume_utc``: every report reads that engine (see :func:`run_report`).

    Raises
    ------
    ValidationError
        A manifest entry names an unknown report or parameter, or a value of the wrong type
        (the message names the entry); nothing has run then. Also ``jobs < 1``.
    """
    if jobs < 1:
        raise ValidationError(f"jobs must be at least 1, got {jobs}")
    entries = load_manifest(manifest)
    workspaces = set()
    for number, entry in enumerate(entries, start=1):
        try:
            values = prepare_parameters(entry["report"], entry["parameters"], workspace=workspace,
                                        notebooks=notebooks, backend=backend)
        except ValidationError as error:
            raise ValidationError(f"manifest entry {number}: {error}") from error
        workspaces.add(values.get(WORKSPACE_PARAMETER))
    for path in sorted(workspaces - {None, ""}):  # before the first kernel: fail fast if held
        wait_for_workspace(path, wait_seconds=lock_wait_seconds)
    index_lock = threading.Lock()

    def run_one(entry: Mapping[str, Any]) -> ReportRun:
        try:
            run = run_report(entry["report"], parameters=entry["parameters"], workspace=workspace,
                             out_dir=out_dir, include_pii=include_pii, notebooks=notebooks,
                             timeout_seconds=timeout_seconds, update_index=False,
                             lock_wait_seconds=lock_wait_seconds, backend=backend,
                             assume_utc=assume_utc)
        except WorkspaceLockedError as error:  # taken by another process since the batch began
            values = prepare_parameters(entry["report"], entry["parameters"], workspace=workspace,
                                        notebooks=notebooks, backend=backend)
            run = record_unstarted_run(entry["report"], values, out_dir, str(error))
        with index_lock:
            build_index(out_dir)
            if progress is not None:
                progress(1)
        return run

    if jobs == 1 or len(entries) <= 1:
        runs = [run_one(entry) for entry in entries]
    else:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="segkit-report") as pool:
            runs = list(pool.map(run_one, entries))
    index = build_index(out_dir) if not runs else Path(out_dir).resolve() / "index.html"
    return BatchResult(tuple(runs), index)
