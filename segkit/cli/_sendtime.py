"""``segkit sendtime export``: per-subscriber send hours as a CSV for an email platform."""

from __future__ import annotations

from typing import Annotated

import typer

from segkit.cli._app import (
    SuppressOption,
    app,
    command,
    output_file,
    parse_as_of,
    read_suppression_list,
    state,
)

sendtime_app = typer.Typer(help="Send-time recommendations.", no_args_is_help=True)
app.add_typer(sendtime_app, name="sendtime")


@command("export", group=sendtime_app)
def export_command(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Use events up to this time (UTC if no zone); "
                                       "UTC hours are for this date.")],
    out: Annotated[str, typer.Option("--out", help="CSV file to write.")],
    exposure_hours: Annotated[int, typer.Option(help="Hours after a send an open is attributed to it.")] = 72,
    suppress: SuppressOption = None,
) -> None:
    """Write subscriber_id, recommended_utc_hour, recommended_local_hour, timezone for every
    subscriber who may be emailed (consent gate applied)."""
    from segkit.io import Workspace, write_export_csv
    from segkit.sendtime import export_send_times, recommend

    cli = state(ctx)
    out_path = output_file(out, "send_times.csv")
    stamp = parse_as_of(as_of)
    suppressed = read_suppression_list(suppress)
    with Workspace(cli.workspace, read_only=True) as workspace:  # each table read once
        tables = {"events": workspace.table("events"), "subscribers": workspace.table("subscribers")}
    recs = recommend(tables, stamp, exposure_hours=exposure_hours)
    table, gate = export_send_times(recs, tables["subscribers"], stamp, events=tables["events"],
                                    suppressed=suppressed)
    write_export_csv(table, out_path)
    cli.echo(f"wrote {len(table):,} send-time recommendations to {out_path} (UTC hours for {stamp.date()})")
    cli.echo(gate.summary())
