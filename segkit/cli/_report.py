"""``segkit report`` and ``segkit batch``: run report notebooks into self-contained HTML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from segkit._config import DEFAULT_REPORTS_DIR
from segkit.cli._app import command, state
from segkit.errors import ValidationError

_WORKSPACE_HELP = "Workspace DuckDB file (overrides the global --workspace/-w)."
_OUT_HELP = "Directory for report runs and index.html."
_PII_HELP = "Allow email addresses in the HTML (otherwise a run whose HTML has one fails)."
_NOTEBOOKS_HELP = "Directory of report notebooks (default: $SEGKIT_NOTEBOOKS or the repo's notebooks/)."


WorkspaceOption = Annotated[Path | None, typer.Option("--workspace", "-w", help=_WORKSPACE_HELP)]
OutOption = Annotated[Path, typer.Option("--out", "-o", help=_OUT_HELP)]
PiiOption = Annotated[bool, typer.Option("--include-pii", help=_PII_HELP)]
TimeoutOption = Annotated[float | None, typer.Option("--timeout", help="Seconds allowed per notebook cell (default: no limit).")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Reports to run at once, each in its own kernel.")]
LockWaitOption = Annotated[float, typer.Option(
    "--lock-wait", min=0, help="Seconds to wait for a workspace another process is writing.")]
NotebooksOption = Annotated[Path | None, typer.Option("--notebooks", help=_NOTEBOOKS_HELP)]


def _fast_imports() -> None:
    """Skip ``rfc3987_syntax`` (a 2.5 s grammar build at import that jsonschema only uses for
    its "iri" format check) in this short-lived command process."""
    sys.modules.setdefault("rfc3987_syntax", None)


def parameter_pairs(args: list[str]) -> dict[str, str]:
    """``-p KEY VALUE`` / ``--parameter KEY VALUE`` groups (repeatable) → ``{KEY: VALUE}``.

    typer cannot declare a repeatable two-value option, so ``report`` receives these as extra
    arguments and parses them here, strictly.
    """
    pairs: dict[str, str] = {}
    rest = list(args)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--parameter"):
            raise ValidationError(f"unexpected argument {flag!r}; give parameters as -p KEY VALUE")
        if len(rest) < 2:
            raise ValidationError(f"{flag} needs KEY VALUE, got {' '.join(rest) or 'nothing'}")
        key, value = rest.pop(0), rest.pop(0)
        pairs[key] = value
    return pairs


@command("report", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def report(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Report name (a notebook in notebooks/, without .ipynb).")],
    workspace: WorkspaceOption = None,
    out: OutOption = DEFAULT_REPORTS_DIR,
    include_pii: PiiOption = False,
    notebooks: NotebooksOption = None,
    timeout: TimeoutOption = None,
    lock_wait: LockWaitOption = 5.0,
) -> None:
    """Run one report: validate parameters, execute, write HTML + summary.json, update the index.

    Parameters: -p KEY VALUE (repeatable), checked against the notebook's parameters cell.
    Example: segkit report workspace_overview -p weeks 12 --out reports
    With the global --backend URL the report reads that engine instead of the workspace file
    (read-only; the URL's password is masked in everything the run writes).
    """
    from segkit.reports import run_report

    cli = state(ctx)
    _fast_imports()
    run = run_report(name, parameters=parameter_pairs(ctx.args),
                     workspace=workspace or cli.workspace, out_dir=out, include_pii=include_pii,
                     notebooks=notebooks, timeout_seconds=timeout, lock_wait_seconds=lock_wait,
                     backend=cli.backend, assume_utc=cli.assume_utc)
    cli.echo(run.summary_line())
    cli.detail(f"index: {Path(out).resolve() / 'index.html'}")
    if not run.ok:
        raise typer.Exit(1)


@command("batch")
def batch(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="YAML list of {report, parameters} entries.")],
    workspace: WorkspaceOption = None,
    out: OutOption = DEFAULT_REPORTS_DIR,
    include_pii: PiiOption = False,
    notebooks: NotebooksOption = None,
    timeout: TimeoutOption = None,
    jobs: JobsOption = 1,
    lock_wait: LockWaitOption = 5.0,
) -> None:
    """Run every report in a manifest; a failure does not stop the others; exit 1 if any failed.

    Cron example: 0 6 * * 1  cd /path/to/repo && .venv/bin/segkit -q batch reports.yaml
    """
    from segkit._progress import progress_bar
    from segkit.reports import load_manifest, run_batch

    cli = state(ctx)
    _fast_imports()
    entries = load_manifest(manifest)
    with progress_bar("reports", len(entries), enabled=cli.show_progress) as advance:
        result = run_batch(manifest, workspace=workspace or cli.workspace, out_dir=out,
                           include_pii=include_pii, notebooks=notebooks, progress=advance,
                           timeout_seconds=timeout, jobs=jobs, lock_wait_seconds=lock_wait,
                           backend=cli.backend, assume_utc=cli.assume_utc)
    cli.echo(result.summary())
    if not result.ok:
        raise typer.Exit(1)

