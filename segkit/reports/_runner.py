"""Run one report notebook: validate parameters, execute with papermill, export HTML, index.

Layout of one run::

    <out_dir>/<name>/<run_id>/executed.ipynb   the executed notebook (kept on failure, with the error)
                              report.html      self-contained HTML, no code (absent if a PII check failed)
                              summary.json     written by the notebook's final cell
                              run.json         the runner's record (parameters, status, timings)
    <out_dir>/index.html                       every run, newest first

Notebooks run with the current working directory set to the parent of the notebooks directory
(the repository root for ``notebooks/``), so a relative default such as
``workspace = "data/workspace.duckdb"`` means the repo's demo workspace; the runner always passes
the workspace as an absolute path anyway.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from segkit._config import DEFAULT_REPORTS_DIR, default_workspace_path
from segkit._files import atomic_write_text
from segkit._version import __version__
from segkit.errors import SegkitError, StorageError, ValidationError, environment_fault
from segkit.reports._params import coerce_parameters, notebook_parameters, read_notebook
from segkit.reports.display import (
    ASSUME_UTC_ENV,
    BACKEND_URL_ENV,
    EMAIL_PATTERN,
    INCLUDE_PII_ENV,
    RUN_DIR_ENV,
)

__all__ = [
    "NOTEBOOKS_ENV",
    "ReportRun",
    "available_reports",
    "notebooks_dir",
    "prepare_parameters",
    "report_parameters",
    "run_report",
]

NOTEBOOKS_ENV = "SEGKIT_NOTEBOOKS"
WORKSPACE_PARAMETER = "workspace"
#: The notebook parameter naming another engine (``segkit --backend``); the run records it with
#: its secrets masked, and the kernel receives the full URL in :data:`BACKEND_URL_ENV` instead.
BACKEND_PARAMETER = "backend"
#: The status of a run whose notebook raised :class:`~segkit.errors.ReportNotApplicable`.
NOT_APPLICABLE = "not_applicable"
#: Run statuses that count as done (exit code 0).
OK_STATUSES = ("succeeded", NOT_APPLICABLE)
#: Tag papermill puts on the cells it inserts to point at a failed cell.
_PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
#: Run in each report kernel before the notebook: ``jsonschema`` (imported by altair and nbformat)
#: otherwise imports ``rfc3987_syntax``, which builds a parser grammar at import and costs about
#: 2.5 s of every report's start; without it jsonschema only skips its "iri" format check.
KERNEL_STARTUP = "import sys; sys.modules.setdefault('rfc3987_syntax', None)"
#: Seconds a report waits for a workspace another process is writing before it fails.
LOCK_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class ReportRun:
    """The outcome of one report run (also stored as ``run.json`` in the run directory)."""

    name: str
    run_id: str
    status: str  # "succeeded", "not_applicable" (the notebook said why it does not apply) or "failed"
    parameters: dict[str, Any]
    directory: Path
    started_at: str
    duration_seconds: float
    error: str | None = None
    summary: dict[str, Any] | None = field(default=None, repr=False)
    #: why the report does not apply to the data (status "not_applicable")
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Succeeded, or not applicable (a complete answer: the page says why): exit code 0."""
        return self.status in OK_STATUSES

    @property
    def html_path(self) -> Path:
        return self.directory / "report.html"

    @property
    def notebook_path(self) -> Path:
        return self.directory / "executed.ipynb"

    @property
    def summary_path(self) -> Path:
        return self.directory / "summary.json"

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["directory"] = str(self.directory)
        record.pop("summary")
        return record

    def summary_line(self) -> str:
        where = self.html_path if self.html_path.exists() else self.notebook_path
        text = f"{self.name} {self.status.replace('_', ' ')} in {self.duration_seconds:.1f} s: {where}"
        detail = self.error or self.reason
        return text + (f" ({detail})" if detail else "")


def notebooks_dir(notebooks: str | Path | None = None) -> Path:
    """Where report notebooks live: the argument, ``$SEGKIT_NOTEBOOKS``, the repository's
    ``notebooks/`` (segkit installed in editable mode from a checkout), ``./notebooks``, or the
    notebooks packaged in the installed wheel (:data:`segkit.lab.PACKAGED_NOTEBOOKS`)."""
    from segkit.lab import PACKAGED_NOTEBOOKS

    given = notebooks or os.environ.get(NOTEBOOKS_ENV) or None
    if given is not None:
        if not Path(given).is_dir():
            raise ValidationError(f"notebooks directory {given!s} not found")
        return Path(given).resolve()
    candidates = [Path(__file__).resolve().parents[2] / "notebooks", Path.cwd() / "notebooks",
                  PACKAGED_NOTEBOOKS]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate.resolve()
    raise ValidationError(
        f"no notebooks directory found; pass notebooks=... or set ${NOTEBOOKS_ENV} "
        "(an installed segkit carries its report notebooks: reinstall it from a wheel)"
    )


def _run_directory(source: Path) -> Path:
    """The working directory of a run: the parent of the notebooks folder (the repository root
    for ``notebooks/``), or the current directory for the notebooks packaged in segkit."""
    from segkit.lab import PACKAGED_NOTEBOOKS

    if source.parent.resolve() == PACKAGED_NOTEBOOKS.resolve():
        return Path.cwd()
    return source.parent.parent


def _is_report(path: Path) -> bool:
    """A notebook with a ``parameters`` cell, unless its metadata say ``"segkit": {"report": false}``
    (an interactive notebook such as the explorer, which papermill can run but is not a report)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if notebook.get("metadata", {}).get("segkit", {}).get("report", True) is False:
        return False
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in notebook.get("cells", []))


def available_reports(notebooks: str | Path | None = None) -> list[str]:
    """Report names (notebook stems with a ``parameters`` cell), sorted."""
    return sorted(p.stem for p in notebooks_dir(notebooks).glob("*.ipynb") if _is_report(p))


def _notebook_path(name: str, notebooks: str | Path | None) -> Path:
    candidate = notebooks_dir(notebooks) / f"{name}.ipynb"
    if Path(name).name == name and candidate.is_file():
        read_notebook(candidate)  # a broken notebook says so instead of "unknown report"
    names = available_reports(notebooks)
    if name not in names:
        raise ValidationError(
            f"unknown report {name!r}; available reports: {', '.join(names) or '(none)'}"
        )
    return notebooks_dir(notebooks) / f"{name}.ipynb"


def report_parameters(name: str, notebooks: str | Path | None = None) -> dict[str, Any]:
    """The declared parameters of a report: name → :class:`~segkit.reports._params.Parameter`."""
    return notebook_parameters(_notebook_path(name, notebooks))


def backend_url(parameters: Mapping[str, Any] | None, backend: str | None) -> str | None:
    """The engine a run reads (``backend``, else a ``backend`` parameter), or None: the file."""
    return str(backend or (parameters or {}).get(BACKEND_PARAMETER) or "").strip() or None


def prepare_parameters(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    workspace: str | Path | None = None,
    notebooks: str | Path | None = None,
    backend: str | None = None,
) -> dict[str, Any]:
    """Validate and convert parameters for a run: every declared parameter, with the given
    values over the defaults, and the workspace as an absolute path.

    With ``backend`` (a URL for :meth:`segkit.io.Workspace.connect`, or a ``backend``
    parameter) the report reads that engine instead of the workspace file: the ``backend``
    parameter holds the URL with its secrets masked (:func:`segkit.io.shown_target`) and
    ``workspace`` is left empty.

    Raises
    ------
    ValidationError
        Unknown report or parameter, wrong type, a workspace file that does not exist, or a
        backend for a report whose notebook has no ``backend`` parameter.
    """
    from segkit.io import shown_target

    declared = report_parameters(name, notebooks)
    values = {key: p.default for key, p in declared.items()}
    values.update(coerce_parameters(name, declared, dict(parameters or {})))
    url = backend_url(parameters, backend)
    if url is not None:
        if BACKEND_PARAMETER not in declared:
            raise ValidationError(
                f"report {name} does not take --backend: its notebook reads the DuckDB workspace "
                "file (it has no `backend` parameter); drop --backend for this report"
            )
        values[BACKEND_PARAMETER] = shown_target(url)
        if WORKSPACE_PARAMETER in declared:
            values[WORKSPACE_PARAMETER] = ""
        return values
    if WORKSPACE_PARAMETER in declared:
        given = (parameters or {}).get(WORKSPACE_PARAMETER)
        chosen = given or workspace or default_workspace_path()
        path = Path(chosen).expanduser().resolve()
        if not path.is_file():
            raise ValidationError(
                f"workspace {path} does not exist; build the demo workspace with `segkit demo` "
                "or pass --workspace PATH"
            )
        values[WORKSPACE_PARAMETER] = str(path)
    return values  # a report without a workspace parameter ignores ``workspace``


def wait_for_workspace(path: str | Path, *, wait_seconds: float) -> None:
    """:func:`segkit.io.wait_for_workspace`, imported when a report runs (not at import)."""
    from segkit.io import wait_for_workspace as wait

    wait(path, wait_seconds=wait_seconds)


def _kernel_name() -> str:
    """The ``segkit`` kernelspec if it runs this interpreter, else ``python3`` (which
    jupyter_client maps to this interpreter when its command is plain ``python``)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    here = Path(sys.executable).resolve()
    for name in ("segkit", "python3"):
        try:
            argv0 = manager.get_kernel_spec(name).argv[0]
        except NoSuchKernel:
            continue
        if argv0 in ("python", "python3") or Path(argv0).resolve() == here:
            return name
    raise SegkitError(
        "no Jupyter kernel runs this Python; install one with "
        f"`{sys.executable} -m ipykernel install --sys-prefix --name segkit`"
    )


def _kernel_manager_class(env: Mapping[str, str]) -> type:
    """A kernel manager that starts its kernel with ``env`` added to this process's environment.

    It also skips the interrupt jupyter_client sends before a shutdown (see the method).
    The run's context reaches the kernel this way instead of through ``os.environ``, which is
    shared by every thread: reports running in parallel (``run_batch(jobs=2)``) would otherwise
    see each other's run directory.
    """
    from jupyter_client.manager import AsyncKernelManager

    extra = dict(env)

    class RunKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            kw["env"] = {**os.environ, **kw.get("env", {}), **extra}
            return await super()._async_pre_start_kernel(**kw)

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts (SIGINT) the kernel before asking it to shut down; the
            # finished kernel then logs "[IPKernelApp] ERROR | KeyboardInterrupt caught in
            # kernel" on the user's terminal. A report's kernel is idle when it is shut down,
            # so the shutdown request alone ends it (a stuck one is still killed after it).
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return RunKernelManager


class _NotApplicable(Exception):
    """The notebook stopped with :class:`~segkit.errors.ReportNotApplicable` (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _execute(source: Path, run_dir: Path, values: dict[str, Any], include_pii: bool,
             kernel: str, timeout: float | None, engine: dict[str, str]) -> str | None:
    """Run the notebook with papermill; return an error description, or None on success.

    Raises
    ------
    _NotApplicable
        The notebook raised ``ReportNotApplicable`` (it has shown why).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    env = {RUN_DIR_ENV: str(run_dir), INCLUDE_PII_ENV: "1" if include_pii else "0", **engine}
    try:
        papermill.execute_notebook(
            str(source), str(run_dir / "executed.ipynb"), parameters=values,
            kernel_name=kernel, language="python", execution_timeout=timeout, cwd=str(_run_directory(source)),
            progress_bar=False, log_output=False, kernel_manager_class=_kernel_manager_class(env),
            # log_level: no "running over TCP without encryption" line per report (the kernel
            # listens on 127.0.0.1 only and lives for one run); cell errors still fail the run
            extra_arguments=[f"--IPKernelApp.exec_lines={KERNEL_STARTUP}", "--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as error:
        if error.ename == "ReportNotApplicable":
            raise _NotApplicable(str(error.evalue)) from None
        return _scrub(f"cell {error.exec_count}: {error.ename}: {error.evalue}", engine)
    except Exception as error:  # kernel died, timeout, disk full, unreadable notebook...
        fault = environment_fault(error)
        return _scrub(str(fault) if fault is not None else f"{type(error).__name__}: {error}", engine)
    return None


def _scrub(text: str, engine: Mapping[str, str]) -> str:
    """``text`` without the secrets of the run's backend URL (an engine's error may quote it)."""
    from segkit.io import scrubbed

    url = engine.get(BACKEND_URL_ENV)
    return text if not url else scrubbed(text, url)


def _read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _emails_in(html_text: str) -> int:
    from segkit.reports._html import vega_bundle

    return len(EMAIL_PATTERN.findall(html_text.replace(vega_bundle(), "")))


#: Files of a run directory that are not the notebook's own output (checked elsewhere).
_RUNNER_FILES = frozenset({"executed.ipynb", "report.html", "run.json"})


def _withhold_emails(run_dir: Path) -> str | None:
    """Without ``--include-pii``: remove every file the notebook wrote into the run directory
    (``summary.json``, exports) that holds an email address (for example subscriber ids that are
    addresses), and say which; None when there were none."""
    removed = []
    for path in sorted(run_dir.iterdir()):
        if path.name in _RUNNER_FILES or not path.is_file():
            continue
        if EMAIL_PATTERN.search(path.read_bytes().decode("utf-8", errors="replace")):
            path.unlink()
            removed.append(path.name)
    if not removed:
        return None
    return (f"{', '.join(removed)} held email address(es) and {'were' if len(removed) > 1 else 'was'} "
            "removed (rerun with --include-pii if they are meant to be there)")


def _pop_title(notebook: Any, name: str) -> str:
    """The first ``# Title`` line of the first Markdown cell, removed (the header shows it)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            for number, line in enumerate(lines):
                if line.startswith("# "):
                    cell.source = "\n".join(lines[:number] + lines[number + 1:]).strip()
                    return line[2:].strip()
            break
    return name.replace("_", " ").capitalize()


def _render(run: ReportRun, include_pii: bool) -> str | None:
    """Write report.html (atomically); return an error if the page would leak email addresses
    or cannot be written (the partial file is then removed: no truncated report is left)."""
    import nbformat

    if not run.notebook_path.is_file():
        return None
    try:
        notebook = nbformat.read(run.notebook_path, as_version=4)
    except (OSError, ValueError) as error:  # truncated by a full disk, say
        run.notebook_path.unlink(missing_ok=True)
        return f"the executed notebook was unreadable and is removed ({_first_line(error)})"
    if run.status == NOT_APPLICABLE:
        _end_at_not_applicable(notebook)
    try:
        return _write_page(run, notebook, include_pii)
    except OSError as error:
        return f"report.html not written: {environment_fault(error)}"


def _end_at_not_applicable(notebook: Any) -> None:
    """Cut the executed notebook after the cell that raised ``ReportNotApplicable``: without
    papermill's error pointers, that cell's traceback or the sections that never ran."""
    cells = [c for c in notebook.cells if _PAPERMILL_ERROR_TAG not in c.get("metadata", {}).get("tags", [])]
    for number, cell in enumerate(cells):
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        if any(o.get("output_type") == "error" and o.get("ename") == "ReportNotApplicable" for o in outputs):
            cell.outputs = [o for o in outputs if o.get("output_type") != "error"]
            cells = cells[: number + 1]
            break
    notebook.cells = cells


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _write_page(run: ReportRun, notebook: Any, include_pii: bool) -> str | None:
    from segkit.reports._html import ReportHeader, export_html

    summary = run.summary or {}
    period = summary.get("data_period")
    header = ReportHeader(
        name=run.name, title=_pop_title(notebook, run.name), parameters=run.parameters,
        generated_at=run.started_at, segkit_version=__version__,
        data_period=tuple(_instant(p) for p in period) if period else None,
        input_fingerprint=summary.get("input_fingerprint"), status=run.status,
        error=run.error, reason=run.reason, run_id=run.run_id,
    )
    page = export_html(notebook, header)
    if not include_pii and (found := _emails_in(page)):
        return (f"report.html would contain {found} email address(es); not written "
                "(rerun with --include-pii if they are meant to be there)")
    atomic_write_text(run.html_path, page)
    return None


def _record(run: ReportRun) -> None:
    """Write ``run.json`` (atomically); if even that fails, say so in one error."""
    try:
        atomic_write_text(run.directory / "run.json", json.dumps(run.to_dict(), indent=2) + "\n")
    except OSError as error:
        outcome = f"failed ({run.error})" if run.error else "succeeded"
        raise StorageError(
            f"report {run.name} {outcome}, but its record run.json could not be written: "
            f"{environment_fault(error)}"
        ) from error


def _instant(text: Any) -> str:
    """An ISO time from ``summary.json`` as the header shows it (the exact instant, UTC)."""
    import pandas as pd

    from segkit._timestamps import instant_text

    try:
        stamp = pd.Timestamp(str(text))
    except (TypeError, ValueError):
        return str(text)
    return instant_text(stamp if stamp.tzinfo is not None else stamp.tz_localize("UTC"))


def _new_run_directory(name: str, out_dir: str | Path) -> tuple[datetime, str, Path]:
    """Create ``<out_dir>/<name>/<run_id>/``; return the start time, run id and directory."""
    started = datetime.now(UTC).replace(microsecond=0)
    run_id = _new_run_id(started)
    run_dir = Path(out_dir).resolve() / name / run_id
    try:
        run_dir.mkdir(parents=True)
    except OSError as error:
        raise StorageError(f"cannot create the run directory: {environment_fault(error)}") from error
    return started, run_id, run_dir


def record_unstarted_run(name: str, parameters: Mapping[str, Any], out_dir: str | Path,
                         reason: str) -> ReportRun:
    """Record a run of ``name`` that failed before its kernel started (``reason``: for example
    the workspace was locked by another process), so that a batch lists it as failed."""
    started, run_id, run_dir = _new_run_directory(name, out_dir)
    run = ReportRun(name, run_id, "failed", dict(parameters), run_dir, started.isoformat(), 0.0,
                    reason)
    _record(run)
    return run


def _new_run_id(started: datetime) -> str:
    return started.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def run_report(
    name: str,
    *,
    parameters: Mapping[str, Any] | None = None,
    workspace: str | Path | None = None,
    out_dir: str | Path = DEFAULT_REPORTS_DIR,
    include_pii: bool = False,
    notebooks: str | Path | None = None,
    timeout_seconds: float | None = None,
    update_index: bool = True,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    backend: str | None = None,
    assume_utc: bool = False,
) -> ReportRun:
    """Run the report notebook ``name`` and write ``<out_dir>/<name>/<run_id>/``.

    Parameters are validated before anything runs; a failure inside the notebook does not
    raise: it returns a run with ``status == "failed"`` whose executed notebook and HTML show
    the error. A notebook that ends with :func:`segkit.reports.display.not_applicable` (its
    analysis does not apply to the data, e.g. no experiments) gives ``status ==
    "not_applicable"`` with the ``reason``; ``ok`` is True (exit code 0) and the page ends with
    that one line. ``timeout_seconds`` limits each cell (None: no limit). A workspace another
    process is writing is waited for up to ``lock_wait_seconds`` before the kernel starts.
    Without ``include_pii`` the HTML is scanned for email addresses and not written if any is
    found, and so is every file the notebook wrote (``summary.json``, exports): one holding an
    email address is removed (the run is then marked failed). Files are written atomically: a
    run that cannot write report.html (a full disk) is marked failed with the reason, never
    left truncated.

    ``backend`` (``segkit --backend URL``) makes the report read another engine through
    :meth:`segkit.io.Workspace.connect` (read-only; ``assume_utc`` as there) instead of the
    workspace file. Only reports whose notebook declares a ``backend`` parameter take it. The
    URL reaches the kernel through its environment; the run records it (run.json, the page,
    the executed notebook) with its password and secret query values masked.

    Raises
    ------
    ValidationError
        Unknown report, unknown parameter, wrong type, missing workspace.
    WorkspaceLockedError
        Another process still holds the workspace after ``lock_wait_seconds`` (its PID is named).
    StorageError
        The run directory cannot be created (read-only or full disk), or run.json not written.
    """
    url = backend_url(parameters, backend)
    values = prepare_parameters(name, parameters, workspace=workspace, notebooks=notebooks,
                                backend=url)
    source = _notebook_path(name, notebooks)
    if values.get(WORKSPACE_PARAMETER):  # before the kernel: a locked workspace fails at once
        wait_for_workspace(values[WORKSPACE_PARAMETER], wait_seconds=lock_wait_seconds)
    engine = {} if url is None else {BACKEND_URL_ENV: url, ASSUME_UTC_ENV: "1" if assume_utc else "0"}
    kernel = _kernel_name()
    started, run_id, run_dir = _new_run_directory(name, out_dir)
    clock = time.perf_counter()
    reason = None
    try:
        error = _execute(source, run_dir, values, include_pii, kernel, timeout_seconds, engine)
    except _NotApplicable as stop:
        error, reason = None, _scrub(stop.reason, engine)
    if not include_pii:
        error = "; ".join(filter(None, [error, _withhold_emails(run_dir)])) or None
    status = "failed" if error else NOT_APPLICABLE if reason else "succeeded"
    run = ReportRun(name, run_id, status, values, run_dir,
                    started.isoformat(), 0.0, error, _read_summary(run_dir), reason)
    if render_error := _render(run, include_pii):
        run = ReportRun(name, run_id, "failed", values, run_dir, run.started_at, 0.0,
                        f"{error}; {render_error}" if error else render_error, run.summary, reason)
    run = ReportRun(**{**run.__dict__, "duration_seconds": round(time.perf_counter() - clock, 2)})
    _record(run)
    if update_index:
        from segkit.reports._index import build_index

        build_index(out_dir)
    return run
