"""``segkit forget``, ``segkit access`` and ``segkit prune``: erasure, access and retention."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from segkit._config import DEFAULT_REPORTS_DIR
from segkit.cli._app import CliState, command, output_file, parse_as_of, state
from segkit.errors import InputError


@command("forget")
def forget_command(
    ctx: typer.Context,
    subscriber_ids: Annotated[
        list[str] | None, typer.Argument(help="Subscriber ids to erase.", metavar="SUBSCRIBER_ID...",
                                        show_default=False)
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="File of subscriber ids, one a line ('#' comments)."),
    ] = None,
    reports: Annotated[
        Path, typer.Option("--reports", help="Reports directory searched for runs that still "
                                             "mention an erased id (made with --include-pii).")
    ] = DEFAULT_REPORTS_DIR,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Complete an interrupted forget (any command opening the "
                                      "workspace does) and compact the database file."),
    ] = False,
) -> None:
    """Erase subscribers from every workspace table, suppress them and audit it.

    One transaction; the suppression list and the audit log hold salted hashes, never the id or
    email; the database file is then rewritten so no deleted bytes remain. A forget killed
    midway is completed by the next command that opens the workspace (or by --resume). Prints
    rows removed per table. A later `segkit ingest` skips their rows unless --allow-reingest.
    Ids erased earlier are reported, not an error. Exit code 2 when no ids are given or none
    of them is held (nothing is written then).
    """
    from segkit.io import Workspace, read_id_list
    from segkit.privacy import forget

    cli = state(ctx)
    cli.refuse_backend("forget")
    ids = list(subscriber_ids or []) + (read_id_list(from_file, "id file") if from_file else [])
    if not ids and not resume:
        raise InputError("no subscriber ids given; pass ids or --from-file FILE (or --resume)")
    with Workspace(cli.workspace, create=False) as workspace:
        if workspace.completed_erasure is not None and resume:
            cli.echo(workspace.completed_erasure.summary())
        if not ids:
            if workspace.completed_erasure is None:
                workspace.compact()
                cli.echo("no interrupted forget to complete; database file compacted")
            return
        report = forget(workspace, ids)
    cli.echo(report.summary())
    _list_report_runs(cli, reports, ids)


def _list_report_runs(cli: CliState, reports: Path, ids: list[str]) -> None:
    """Name the report runs that still hold an erased id (only --include-pii runs can)."""
    from segkit.reports import runs_mentioning

    runs = runs_mentioning(reports, ids) if reports.is_dir() else []
    if runs:
        cli.echo(f"  {len(runs)} report run(s) made with --include-pii still mention these ids; "
                 f"delete them to complete the erasure: {', '.join(map(str, runs))}")


@command("access")
def access_command(
    ctx: typer.Context,
    subscriber_id: Annotated[str, typer.Argument(help="The subscriber id.", metavar="SUBSCRIBER_ID")],
    out: Annotated[str, typer.Option("--out", help="JSON file to write.")],
) -> None:
    """Write everything held about SUBSCRIBER_ID (every table, quarantine, audit) as JSON."""
    from segkit.io import Workspace, personal_data_note, write_private_file
    from segkit.privacy import access

    cli = state(ctx)
    cli.refuse_backend("access", "it reads every workspace table with DuckDB SQL")
    output_file(out, "access.json")  # refuse a directory before any work
    with Workspace(cli.workspace, read_only=True) as workspace:
        held = access(workspace, subscriber_id)
    text = json.dumps(held, indent=2, ensure_ascii=False) + "\n"
    target = write_private_file(output_file(out, "access.json"), lambda handle: handle.write(text), "access file")
    counts = ", ".join(f"{table} {n}" for table, n in held["row_counts"].items() if n)
    cli.echo(f"wrote {held['total_rows']:,} row(s) about {held['subscriber_id']} to {target.resolve()}"
             + (f" ({counts})" if counts else " (nothing is held)") + "; "
             + personal_data_note("everything held about one subscriber"))


@command("prune")
def prune_command(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Retention limit, e.g. 730d, 104w or 48h.")
    ],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Reference time (UTC if no zone given; default: now)."),
    ] = None,
) -> None:
    """Delete events older than the limit, atomically; print rows removed per table.

    Quarantined input rows of ingests that finished before the cutoff go too."""
    from segkit.io import Workspace
    from segkit.privacy import parse_age, prune

    cli = state(ctx)
    cli.refuse_backend("prune")
    age = parse_age(older_than)
    stamp = parse_as_of(as_of) if as_of is not None else None
    with Workspace(cli.workspace, create=False) as workspace:
        report = prune(workspace, age, stamp)
    cli.echo(report.summary())
