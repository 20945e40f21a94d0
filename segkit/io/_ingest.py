"""One ingest, end to end: read, map, validate (outside the transaction), then in ONE DuckDB
transaction load, refresh machine-open flags, write quarantine and the ingest log, and commit.

Any exception, or the process being killed before ``COMMIT``, leaves the workspace as it was.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from segkit._schema import ORDER_LINES, TABLES, TableSchema
from segkit._version import __version__
from segkit.errors import InputError, ValidationError
from segkit.io._load import load
from segkit.io._machine import refresh_machine_opens
from segkit.io._orders import check_order_columns, load_orders, prepare_order_lines
from segkit.io._parse import check_tz_argument
from segkit.io._read import RawInput, read_source
from segkit.io._report import IngestReport, empty_quarantine
from segkit.io._suppression import SuppressedRows, find_suppressed_rows, lift_suppression
from segkit.io._validate import Validated, map_columns, validate

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from segkit.io._workspace import Workspace

#: Progress increments passed to ``progress`` add up to this.
INGEST_PROGRESS_TOTAL = 100
_STEP_READ, _STEP_VALIDATE, _STEP_LOAD, _STEP_MACHINE, _STEP_FINISH = 15, 35, 30, 15, 5


def _noop(advance: int = 1) -> None:
    return None


#: Ingest targets that are not stored tables: order lines become purchase and refund events.
ORDERS = "orders"


def schema_for(table: str) -> TableSchema:
    if table == ORDERS:
        return ORDER_LINES
    if table not in TABLES:
        valid = ", ".join(sorted([*TABLES, ORDERS]))
        raise ValidationError(f"unknown table {table!r}; valid: {valid}")
    return TABLES[table]


def run_ingest(
    workspace: Workspace,
    table: str,
    source: pd.DataFrame | str | Path,
    *,
    mapping: Mapping[str, str] | None,
    tz: str | None,
    sep: str | None,
    progress: Callable[[int], Any] | None,
    allow_reingest: bool = False,
    constants: Mapping[str, object] | None = None,
) -> IngestReport:
    """See :meth:`segkit.io.Workspace.ingest`."""
    schema = schema_for(table)
    check_tz_argument(tz)
    if sep is not None and len(sep) != 1:
        raise InputError(f"--sep must be one character, got {sep!r}")
    advance = progress or _noop
    started = pd.Timestamp.now(tz="UTC")  # a log timestamp, not an analytic "now"
    raw = read_source(source, sep=sep)
    advance(_STEP_READ)
    frame = with_constants(raw.frame, constants, raw.source)
    mapped, provided, extras = map_columns(frame, schema, mapping, raw.source)
    con = workspace.connection
    if table == ORDERS:
        check_order_columns(provided, raw.source)
    validated = validate(
        mapped, schema, provided=provided, extras=extras, tz=tz, source=raw.source, con=con
    )
    if table == ORDERS:
        validated = prepare_order_lines(validated)
    advance(_STEP_VALIDATE)
    suppressed = find_suppressed_rows(con, mapped)
    if not allow_reingest:
        validated = _drop_rows(validated, suppressed.positions)
    options = {"mapping": dict(mapping or {}), "tz": tz, "sep": sep,
               "allow_reingest": allow_reingest, "set": {k: str(v) for k, v in (constants or {}).items()}}
    con.execute("BEGIN TRANSACTION")
    try:
        if allow_reingest:
            _readmit(con, validated, suppressed, table, started)
        dropped = 0 if allow_reingest else len(suppressed.positions)
        report = _transaction(
            workspace, table, schema, raw, validated, options, started, advance, dropped
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    advance(_STEP_FINISH)
    return report


def with_constants(
    frame: pd.DataFrame, constants: Mapping[str, object] | None, source: str
) -> pd.DataFrame:
    """``frame`` with one constant column per ``constants`` item (``--set column=value``); a
    column the source already has (ignoring case) is an error rather than silently replaced."""
    if not constants:
        return frame
    present = {str(c).strip().lower(): str(c) for c in frame.columns}
    for name in constants:
        if not str(name).strip():
            raise InputError(f"{source}: --set needs a column name, got {name!r}")
        if str(name).strip().lower() in present:
            raise InputError(
                f"{source}: --set {name}=... names a column the file already has "
                f"({present[str(name).strip().lower()]!r}); drop --set or map another column"
            )
    return frame.assign(**{str(name).strip(): value for name, value in constants.items()})


def _drop_rows(validated: Validated, positions: pd.Index) -> Validated:
    """``validated`` without the rows at ``positions`` (suppressed subscribers): neither loaded
    nor quarantined, so their personal data is not written anywhere."""
    if positions.empty:
        return validated
    note = (f"{len(positions)} row(s) of forgotten subscribers skipped (suppression list; "
            "allow re-ingest to load them)")
    return dataclasses.replace(
        validated,
        clean=validated.clean.drop(index=validated.clean.index.intersection(positions)),
        problems=validated.problems.drop(index=validated.problems.index.intersection(positions)),
        notes=[*validated.notes, note],
    )


def _readmit(
    con: duckdb.DuckDBPyConnection,
    validated: Validated,
    suppressed: SuppressedRows,
    table: str,
    started: pd.Timestamp,
) -> None:
    """Allowed re-ingest: lift the suppression of the subjects in this input (audited)."""
    if not suppressed.hashes:
        return
    lifted = lift_suppression(con, suppressed.hashes, started, table)
    validated.notes.append(
        f"{len(suppressed.positions)} row(s) of forgotten subscribers re-admitted "
        f"(allow re-ingest); {lifted} suppression entr{'y' if lifted == 1 else 'ies'} lifted"
    )


def _transaction(
    workspace: Workspace,
    table: str,
    schema: TableSchema,
    raw: RawInput,
    validated: Validated,
    options: dict[str, Any],
    started: pd.Timestamp,
    advance: Callable[[int], Any],
    rows_suppressed: int,
) -> IngestReport:
    con = workspace.connection
    ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log").fetchall()[0][0]
    if table == ORDERS:
        outcome = load_orders(con, validated, int(ingest_id))
    else:
        outcome = load(con, schema, validated)
    advance(_STEP_LOAD)
    if schema.name == "events" and outcome.loaded:
        refresh_machine_opens(con, "_segkit_affected", workspace.machine_open_seconds)
        con.execute("DROP TABLE _segkit_affected")
    advance(_STEP_MACHINE)
    problems = pd.concat([validated.problems, outcome.problems]).sort_index()
    quarantine = _quarantine_frame(problems)
    notes = tuple(raw.notes + validated.notes + outcome.notes)
    report = IngestReport(
        table=table,
        source=raw.source,
        ingest_id=int(ingest_id),
        rows_read=len(raw.frame),
        rows_loaded=outcome.loaded,
        rows_duplicate=outcome.duplicates,
        rows_quarantined=len(quarantine),
        quarantine=quarantine,
        notes=notes,
        rows_suppressed=rows_suppressed,
    )
    _write_quarantine(con, report, raw, problems)
    _write_log(con, report, raw, {**options, "notes": list(notes)}, started)
    return report


def _quarantine_frame(problems: pd.DataFrame) -> pd.DataFrame:
    if problems.empty:
        return empty_quarantine()
    return pd.DataFrame(
        {
            "row_number": problems.index.to_numpy(dtype="int64") + 1,
            "column": problems["column"].to_numpy(dtype=object),
            "value": problems["value"].to_numpy(dtype=object),
            "reason": problems["reason"].to_numpy(dtype=object),
        }
    )


def _raw_rows_json(frame: pd.DataFrame, positions: pd.Index) -> list[str]:
    rows = frame.iloc[positions.to_numpy()]
    text = rows.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
    return text.splitlines()


def _write_quarantine(
    con: duckdb.DuckDBPyConnection, report: IngestReport, raw: RawInput, problems: pd.DataFrame
) -> None:
    if problems.empty:
        return
    frame = report.quarantine.rename(columns={"column": "column_name"})
    frame.insert(0, "source", report.source)
    frame.insert(0, "table_name", report.table)
    frame.insert(0, "ingest_id", report.ingest_id)
    frame["raw"] = _raw_rows_json(raw.frame, problems.index)
    frame["value"] = frame["value"].astype("str")
    con.register("_segkit_quarantine_in", frame)
    try:
        con.execute(
            "INSERT INTO quarantine (ingest_id, table_name, source, row_number, column_name, "
            "value, reason, raw) SELECT ingest_id, table_name, source, row_number, column_name, "
            "value, reason, raw FROM _segkit_quarantine_in"
        )
    finally:
        con.unregister("_segkit_quarantine_in")


def _write_log(
    con: duckdb.DuckDBPyConnection,
    report: IngestReport,
    raw: RawInput,
    options: dict[str, Any],
    started: pd.Timestamp,
) -> None:
    status = "ok_with_quarantine" if report.rows_quarantined else "ok"
    con.execute(
        "INSERT INTO ingest_log (ingest_id, table_name, source, sha256, started_at, finished_at, "
        "rows_read, rows_loaded, rows_duplicate, rows_quarantined, status, options, "
        "rows_suppressed) VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
        [
            report.ingest_id,
            report.table,
            report.source,
            raw.sha256,
            started.to_pydatetime(),
            report.rows_read,
            report.rows_loaded,
            report.rows_duplicate,
            report.rows_quarantined,
            status,
            json.dumps({**options, "segkit_version": __version__}, default=str),
            report.rows_suppressed,
        ],
    )
