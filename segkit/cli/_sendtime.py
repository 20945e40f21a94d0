"""``segkit sendtime export``: per-subscriber send hours as a CSV for an email platform."""

from __future__ import annotations

from typing import Annotated

import typer

from segkit.cli._app import (
    SoftBounceOption,
    SuppressOption,
    app,
    command,
    output_file,
    parse_as_of,
    read_suppression_list,
    state,
)
from segkit.consent import DEFAULT_SOFT_BOUNCE_LIMIT

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
    soft_bounce_limit: SoftBounceOption = DEFAULT_SOFT_BOUNCE_LIMIT,
) -> None:
    """Write subscriber_id, recommended_utc_hour, recommended_local_hour, timezone for every
    subscriber who may be emailed today (consent from the latest state, whatever --as-of)."""
    from segkit.consent import consent_tables
    from segkit.io import personal_data_note, write_export_csv
    from segkit.sendtime import export_send_times, recommend

    cli = state(ctx)
    output_file(out, "send_times.csv")  # refuse a directory before any work
    stamp = parse_as_of(as_of)
    suppressed = read_suppression_list(suppress)
    with cli.read_workspace() as workspace:  # the file, or the engine of --backend
        gate_tables = consent_tables(workspace)  # first: no subscribers, no export
        # the events the models use are selected in the engine (no SELECT * of the events)
        recs = recommend(workspace, stamp, exposure_hours=exposure_hours)
    subscribers = gate_tables.subscribers
    table, gate = export_send_times(recs, subscribers, events=gate_tables.events, suppressed=suppressed,
                                    soft_bounce_limit=soft_bounce_limit)
    target = write_export_csv(table, output_file(out, "send_times.csv"))
    cli.echo(f"wrote {len(table):,} send-time recommendations (UTC hours for {stamp.date()}) to "
             f"{target.resolve()}; " + personal_data_note("subscriber ids and time zones"))
    cli.echo(gate.summary())
