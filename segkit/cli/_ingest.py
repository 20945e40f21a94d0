"""``segkit ingest TABLE FILE``: validate a CSV/Parquet file and load it into the workspace."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from segkit._progress import progress_bar
from segkit.cli._app import command, state
from segkit.errors import InputError


class IngestTable(StrEnum):
    events = "events"
    subscribers = "subscribers"
    campaigns = "campaigns"
    assignments = "assignments"
    orders = "orders"


_SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["ts=time", "subscriber_id=user"]`` -> ``{"ts": "time", "subscriber_id": "user"}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        canonical, equals, column = pair.partition("=")
        if not equals or not canonical.strip() or not column:
            raise InputError(f"--map expects canonical=source_column, got {pair!r}")
        mapping[canonical.strip()] = column
    return mapping


def parse_constants(pairs: list[str]) -> dict[str, str]:
    """``["event_type=purchase"]`` -> ``{"event_type": "purchase"}`` (the value may be empty)."""
    constants: dict[str, str] = {}
    for pair in pairs:
        column, equals, value = pair.partition("=")
        if not equals or not column.strip():
            raise InputError(f"--set expects column=value, got {pair!r}")
        if column.strip() in constants:
            raise InputError(f"--set {column.strip()} is given twice")
        constants[column.strip()] = value
    return constants


@command("ingest")
def ingest(
    ctx: typer.Context,
    table: Annotated[IngestTable, typer.Argument(help="Table to load into.")],
    file: Annotated[Path, typer.Argument(help="CSV, CSV.gz or Parquet file.")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="canonical=source_column, for columns named differently."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="column=value: a constant column for every row "
                     "(e.g. event_type=purchase)."),
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="IANA zone for timestamps without an offset.")
    ] = None,
    sep: Annotated[
        str | None, typer.Option("--sep", help="CSV delimiter (default: detected; 'tab' for tab).")
    ] = None,
    allow_reingest: Annotated[
        bool,
        typer.Option("--allow-reingest",
                     help="Load rows of subscribers erased by `segkit forget` (lifts their suppression)."),
    ] = False,
) -> None:
    """Validate FILE and load it into TABLE; bad rows go to the quarantine table.

    TABLE `orders` takes order (invoice) lines: order_id, subscriber_id, ts, quantity and
    unit_price (or value), optionally product_id, product_name, category. Each order becomes one
    purchase event (value = sum of quantity x unit_price); a cancellation or return becomes a
    refund (negative value) linked to the order it undoes where the log allows it. The counts
    are lines; lines without a customer are quarantined.

    Prints "read N, loaded L, duplicates skipped D, quarantined Q" (N = L + D + Q), plus
    "suppressed (forgotten) S" when rows of erased subscribers were skipped (then N = L + D + Q
    + S); --verbose adds the notes and quarantine reasons. Structural problems exit with code 2
    and write nothing.
    """
    from segkit.io import INGEST_PROGRESS_TOTAL, Workspace

    cli = state(ctx)
    cli.refuse_backend("ingest", "ingest writes to the DuckDB workspace file only")
    mapping = parse_mapping(map_ or [])
    constants = parse_constants(set_ or [])
    separator = _SEPARATOR_NAMES.get(sep, sep) if sep is not None else None
    with Workspace(cli.workspace) as workspace, progress_bar(
        f"ingest {table.value}", INGEST_PROGRESS_TOTAL, enabled=cli.show_progress
    ) as advance:
        report = workspace.ingest(
            table.value, file, mapping=mapping, tz=tz, sep=separator, progress=advance,
            allow_reingest=allow_reingest, constants=constants,
        )
    cli.echo(str(report))
    if cli.verbose:
        for line in report.summary().splitlines()[1:]:
            cli.detail(line)
