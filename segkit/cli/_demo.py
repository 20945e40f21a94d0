"""``segkit demo``: build the demo workspace from the synthetic generator and render every report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from segkit._config import DEFAULT_REPORTS_DIR
from segkit.cli._app import command, state
from segkit.cli._report import JobsOption, _fast_imports

#: Per-report parameters of the demo. The synthetic generator has no product ids, so the
#: recommendations report runs on the vendored UCI Online Retail lines (a real time split).
DEMO_PARAMETERS = {
    "recommendations": {"source": "online_retail", "cutoff": "2011-09-30", "end": "2011-12-09"},
}


@command("demo")
def demo(
    ctx: typer.Context,
    n_subscribers: Annotated[int, typer.Option(help="Synthetic subscribers to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed for the generator.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the rendered reports.")] = DEFAULT_REPORTS_DIR,
    reports: Annotated[bool, typer.Option("--reports/--no-reports", help="Render every report after building.")] = True,
    jobs: JobsOption = 2,
) -> None:
    """Build the demo workspace from synthetic data with planted truth, then render every report."""
    from segkit._progress import progress_bar
    from segkit.datasets import build_demo_workspace

    cli = state(ctx)
    cli.refuse_backend("demo")
    started = time.perf_counter()
    cli.echo(build_demo_workspace(
        cli.workspace, n_subscribers=n_subscribers, seed=seed, show_progress=cli.show_progress
    ))
    if not reports:
        return
    _fast_imports()
    from segkit.reports import available_reports, run_batch

    names = available_reports()
    with progress_bar("reports", len(names), enabled=cli.show_progress) as advance:
        entries = [{"report": name, "parameters": DEMO_PARAMETERS.get(name, {})} for name in names]
        result = run_batch(entries, workspace=cli.workspace,
                           out_dir=out, progress=advance, jobs=jobs)
    cli.echo(result.summary())
    cli.echo(f"demo finished in {time.perf_counter() - started:.1f} s")
    if not result.ok:
        raise typer.Exit(1)
