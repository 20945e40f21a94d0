"""One ingest, end to end: read, map, validate (outside the transaction), then in ONE DuckDB
transaction load, refresh machine-open flags, write quarantine and the ingest log, and commit.

Any exception, or the process being killed before ``COMMIT``, leaves the workspace as it was.

Bounded memory: a CSV is read in chunks of :data:`segkit.io._read.CHUNK_ROWS` rows, and each
chunk is mapped and validated by the same vectorised pandas code as a whole file would be (so
every message, reason and row number is unchanged: a chunk keeps the file's row positions),
then staged as one compressed Parquet file per chunk in a directory beside the workspace
(:func:`staging_directory`). Everything that looks across rows (duplicates and conflicts within
the file, ids already stored, machine opens) then runs in SQL over those files, unchanged, under
:data:`INGEST_MEMORY_LIMIT`; the statements over every row run in hash slices (see
:data:`segkit.io._machine.PARTITION_ROWS`) so their hash tables fit in memory and time stays
linear in the rows. This design keeps the one validation code path (no second dialect of the
checks in SQL to keep in step) and makes peak memory a function of the chunk size, not of the
file. The staged files are never part of the workspace file: the directory is removed when the
ingest ends, and by the next writable opening if the process was killed; the load itself is
still one transaction. Orders are staged the same way, one line a row; what looks across
lines (an order's owner, the occurrence of identical lines) is settled over the staged lines
(see :mod:`segkit.io._orders`).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from segkit._schema import ORDER_LINES, TABLES, TableSchema
from segkit._version import __version__
from segkit.errors import (
    CorruptWorkspaceError,
    InputError,
    StorageError,
    ValidationError,
    environment_fault,
)
from segkit.io._load import input_frame, load
from segkit.io._machine import refresh_machine_opens
from segkit.io._orders import SUPPRESSED, check_order_columns, load_orders, prepare_order_lines
from segkit.io._parse import check_tz_argument
from segkit.io._read import ChunkedInput, open_chunks
from segkit.io._report import IngestReport, empty_quarantine
from segkit.io._sql import ident, literal
from segkit.io._suppression import SuppressedRows, find_suppressed_rows, lift_suppression
from segkit.io._validate import Validated, map_columns, validate, validation_notes

if TYPE_CHECKING:  # pragma: no cover
    from segkit.io._workspace import Workspace

#: Progress increments passed to ``progress`` add up to this.
INGEST_PROGRESS_TOTAL = 100
_STEP_READ, _STEP_VALIDATE, _STEP_LOAD, _STEP_MACHINE, _STEP_FINISH = 15, 35, 30, 15, 5


def _noop(advance: int = 1) -> None:
    return None


#: Ingest targets that are not stored tables: order lines become purchase and refund events.
ORDERS = "orders"
#: DuckDB's memory limit while an ingest stages and loads rows; beyond it DuckDB spills to its
#: temp directory. With the chunks of text in pandas, peak RSS stays well under 4 GB.
INGEST_MEMORY_LIMIT = "2GB"
_STAGED = "_segkit_staged"
_RAW = "_segkit_raw"
_CHUNK = "_segkit_chunk"


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
    reader = open_chunks(source, sep=sep, numeric=_numeric_sources(schema, mapping),
                         booleans=_numeric_sources(schema, mapping, "BOOLEAN"))
    advance(_STEP_READ)
    con = workspace.connection
    options = {"mapping": dict(mapping or {}), "tz": tz, "sep": sep,
               "allow_reingest": allow_reingest, "set": {k: str(v) for k, v in (constants or {}).items()}}
    staging_dir = staging_directory(workspace.path) if reader.chunked else None
    with _memory_limit(con, INGEST_MEMORY_LIMIT), _staging(con, staging_dir) as (staging, raw):
        try:
            passed = _validate_chunks(
                con, reader, schema, table, mapping=mapping, tz=tz, constants=constants,
                allow_reingest=allow_reingest, staging=staging, raw=raw,
            )
        except BaseException as error:  # staging writes files: a full disk, say
            _raise_fault(error, reader, schema)
            raise
        advance(_STEP_VALIDATE)
        con.execute("BEGIN TRANSACTION")
        try:
            if allow_reingest:
                _readmit(con, passed.validated, passed.suppressed, table, started)
            dropped = 0 if allow_reingest else len(passed.suppressed.positions)
            report = _transaction(
                workspace, table, schema, reader, passed, options, started, advance, dropped
            )
            con.execute("COMMIT")
        except BaseException as error:
            _rollback(con)
            _raise_fault(error, reader, schema)
            raise
    advance(_STEP_FINISH)
    return report


def _raise_fault(error: BaseException, reader: ChunkedInput, schema: TableSchema) -> None:
    """Raise a fault of the machine (disk full, corrupt file) as one line saying nothing was
    loaded; return for any other error (the caller re-raises it)."""
    fault = environment_fault(error)
    if isinstance(fault, CorruptWorkspaceError):
        raise fault.during(f"ingest of {reader.source} into {schema.name} failed, nothing was "
                           "loaded: ") from error
    if isinstance(fault, StorageError):
        raise type(fault)(
            f"ingest of {reader.source} into {schema.name} failed, nothing was loaded: {fault}"
        ) from error


@dataclass
class _Passed:
    """What validating every chunk found: the clean rows are in the staged relation ``staged``
    (``staged_rows`` rows) and ``validated.clean`` is empty. ``raw`` stages the raw row (JSON)
    of each problem (columns ``_row``, ``raw``), so they are not held in memory either."""

    validated: Validated
    raw: _Staging
    suppressed: SuppressedRows
    staged: str
    staged_rows: int


def _validate_chunks(
    con: duckdb.DuckDBPyConnection,
    reader: ChunkedInput,
    schema: TableSchema,
    table: str,
    *,
    mapping: Mapping[str, str] | None,
    tz: str | None,
    constants: Mapping[str, object] | None,
    allow_reingest: bool,
    staging: _Staging,
    raw: _Staging,
) -> _Passed:
    """Map and validate each chunk; append its clean rows to ``staging`` and the raw row (JSON)
    of each of its problems to ``raw``."""
    problems: list[pd.DataFrame] = []
    positions: list[pd.Index] = []
    hashes: set[str] = set()
    counts = [0, 0]
    last: Validated | None = None
    for number, chunk in enumerate(reader.chunks()):
        frame = with_constants(chunk, constants, reader.source)
        mapped, provided, extras = map_columns(frame, schema, mapping, reader.source)
        if table == ORDERS:
            check_order_columns(provided, reader.source)
        validated = validate(
            mapped, schema, provided=provided, extras=extras, tz=tz, source=reader.source, con=con
        )
        if table == ORDERS:
            validated = prepare_order_lines(validated)
        suppressed = find_suppressed_rows(con, mapped)
        if table == ORDERS:  # staged with a flag: their lines still count as the source's
            validated.clean[SUPPRESSED] = (
                validated.clean.index.isin(suppressed.positions) & (not allow_reingest))
        if not allow_reingest:
            validated = _drop_rows(validated, suppressed.positions, keep_clean=table == ORDERS)
        positions.append(suppressed.positions)
        hashes |= suppressed.hashes
        counts = [a + b for a, b in zip(counts, validated.refund_counts, strict=True)]
        problems.append(validated.problems)
        _stage_chunk(con, schema, validated, staging, first=number == 0)
        _stage_raw(con, chunk, validated.problems.index, raw, first=number == 0)
        validated = dataclasses.replace(validated, clean=validated.clean.iloc[:0])
        last = validated
    assert last is not None  # a CSV gives one chunk even without data rows
    suppressed_all = SuppressedRows(
        pd.Index(np.concatenate([p.to_numpy(dtype="int64") for p in positions])),
        frozenset(hashes),
    )
    notes = validation_notes(schema.name, last.extras, (counts[0], counts[1]))
    if len(suppressed_all.positions) and not allow_reingest:
        notes.append(_suppression_note(len(suppressed_all.positions)))
    merged = dataclasses.replace(
        last, problems=pd.concat(problems), notes=notes, refund_counts=(counts[0], counts[1])
    )
    return _Passed(merged, raw, suppressed_all, staging.finish(con), staging.rows)


def _stage_chunk(
    con: duckdb.DuckDBPyConnection, schema: TableSchema, validated: Validated, staging: _Staging,
    *, first: bool,
) -> None:
    """Append a chunk's clean rows (as :func:`segkit.io._load.input_frame` gives them) to
    ``staging``, every column cast to one type so all chunks agree (an event type is a category
    of the chunk's spellings in pandas; JSON is text until the load parses it)."""
    frame = input_frame(validated)
    types = {c.name: ("VARCHAR" if c.sql_type == "JSON" else c.sql_type) for c in schema.columns}
    selected = []
    for column in frame.columns:
        name = ident(str(column))
        if column == "_row":
            selected.append(f"CAST({name} AS BIGINT) AS {name}")
        elif column in types and column in validated.provided:
            selected.append(f"CAST({name} AS {types[column]}) AS {name}")
        elif frame[column].dtype == object or isinstance(frame[column].dtype, pd.StringDtype):
            selected.append(f"CAST({name} AS VARCHAR) AS {name}")
        else:  # an extra column of another type (a DataFrame source): as DuckDB reads it
            selected.append(name)
    con.register(_CHUNK, frame)
    try:
        staging.append(con, f"SELECT {', '.join(selected)} FROM {_CHUNK}", len(frame),
                       first=first)
    finally:
        con.unregister(_CHUNK)


#: Suffix of the directory beside the workspace that holds the compressed chunks of an ingest
#: read in chunks while it runs (see :class:`_Staging`); removed afterwards, and by the next
#: writable opening if a killed process left it.
STAGING_SUFFIX = ".ingest"


def staging_directory(database: Path) -> Path:
    """Where an ingest into ``database`` stages its chunks."""
    return database.with_name(database.name + STAGING_SUFFIX)


def remove_staging(database: Path) -> None:
    """Remove the staging directory a killed ingest left beside ``database`` (the caller holds
    the database's write lock, so no ingest is running)."""
    shutil.rmtree(staging_directory(database), ignore_errors=True)


@dataclass
class _Staging:
    """The clean rows of every chunk, in file order, for the load statements to read as the
    relation ``name``.

    A source read in chunks is staged as one zstd-compressed Parquet file per chunk in
    ``directory`` (a DuckDB temporary table is not compressed: 100M events took ~10 GB, spilled
    to disk under the memory limit and read back by every load statement); the files are read
    through a view. A source read whole (a DataFrame) is a temporary table, as small as its
    frame. Either way nothing is part of the workspace file, and the directory is removed
    when the ingest ends, whatever happened."""

    name: str
    directory: Path | None
    files: list[Path] = dataclasses.field(default_factory=list)
    rows: int = 0  # staged so far

    def append(
        self, con: duckdb.DuckDBPyConnection, select: str, rows: int, *, first: bool
    ) -> None:
        """Stage the ``rows`` rows of ``select``."""
        self.rows += rows
        if self.directory is None:
            into = f"CREATE TEMP TABLE {self.name} AS" if first else f"INSERT INTO {self.name}"
            con.execute(f"{into} {select}")
            return
        if first:
            self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"chunk-{len(self.files):06d}.parquet"
        con.execute(f"COPY ({select}) TO {literal(str(path))} "
                    "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
        self.files.append(path)

    def finish(self, con: duckdb.DuckDBPyConnection) -> str:
        """The relation holding every staged row."""
        if self.directory is not None:
            files = ", ".join(literal(str(path)) for path in self.files)
            con.execute(f"CREATE TEMP VIEW {self.name} AS SELECT * FROM read_parquet([{files}])")
        return self.name


@contextmanager
def _staging(
    con: duckdb.DuckDBPyConnection, directory: Path | None
) -> Iterator[tuple[_Staging, _Staging]]:
    """The staging of one ingest: its clean rows and the raw rows of its problems (files in
    ``directory``, or temporary tables when None), dropped afterwards whatever happened."""

    def drop() -> None:
        for name in (_STAGED, _RAW):
            for kind in ("VIEW", "TABLE"):
                try:
                    con.execute(f"DROP {kind} IF EXISTS temp.{name}")
                except duckdb.Error:  # the other kind, or a failed connection (it dies with it)
                    pass
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    drop()
    try:
        yield (_Staging(_STAGED, directory),
               _Staging(_RAW, None if directory is None else directory / "raw"))
    finally:
        drop()


@contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's ``memory_limit`` lowered to ``limit`` for the block (unless it is lower
    already), then restored."""
    before = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    lower = _size_bytes(before) > _size_bytes(limit)
    if lower:
        con.execute(f"SET memory_limit = {literal(limit)}")
    try:
        yield
    finally:
        if lower:
            try:
                con.execute(f"SET memory_limit = {literal(before)}")
            except duckdb.Error:
                pass


_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9,
          "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _size_bytes(text: str) -> float:
    """``'18.8 GiB'`` -> bytes (DuckDB's spelling of a memory size); unknown text is infinite."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        return float("inf")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, unless DuckDB already did: a failed write (disk full) or a failed COMMIT ends
    the transaction itself, and the ROLLBACK error would hide the real cause."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


def _numeric_sources(
    schema: TableSchema, mapping: Mapping[str, str] | None, sql_type: str = "DOUBLE"
) -> set[str]:
    """Source column names that may become a numeric (or ``sql_type``) column (by name or by
    ``mapping``)."""
    numeric = {c.name for c in schema.columns if c.sql_type == sql_type}
    return numeric | {source for target, source in (mapping or {}).items() if target in numeric}


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


def _drop_rows(validated: Validated, positions: pd.Index, *, keep_clean: bool = False) -> Validated:
    """``validated`` without the rows at ``positions`` (suppressed subscribers): neither loaded
    nor quarantined, so their personal data is not written anywhere (``keep_clean``: clean rows
    are kept, flagged, and skipped by the load)."""
    if positions.empty:
        return validated
    return dataclasses.replace(
        validated,
        clean=validated.clean if keep_clean else validated.clean.drop(
            index=validated.clean.index.intersection(positions)),
        problems=validated.problems.drop(index=validated.problems.index.intersection(positions)),
    )


def _suppression_note(rows: int) -> str:
    return (f"{rows} row(s) of forgotten subscribers skipped (suppression list; "
            "allow re-ingest to load them)")


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
    reader: ChunkedInput,
    passed: _Passed,
    options: dict[str, Any],
    started: pd.Timestamp,
    advance: Callable[[int], Any],
    rows_suppressed: int,
) -> IngestReport:
    con = workspace.connection
    validated = passed.validated
    ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log").fetchall()[0][0]
    if table == ORDERS:
        outcome = load_orders(con, validated, int(ingest_id), passed.staged)
    else:
        outcome = load(con, schema, validated, staged=passed.staged,
                       staged_rows=passed.staged_rows)
    advance(_STEP_LOAD)
    if schema.name == "events" and outcome.loaded:
        refresh_machine_opens(con, outcome.affected, workspace.machine_open_seconds)
        if outcome.affected:
            con.execute(f"DROP TABLE {outcome.affected}")
    advance(_STEP_MACHINE)
    problems = pd.concat([validated.problems, outcome.problems]).sort_index()
    quarantine = _quarantine_frame(problems)
    notes = tuple(reader.notes + validated.notes + outcome.notes)
    report = IngestReport(
        table=table,
        source=reader.source,
        ingest_id=int(ingest_id),
        rows_read=reader.rows_read,
        rows_loaded=outcome.loaded,
        rows_duplicate=outcome.duplicates,
        rows_quarantined=len(quarantine),
        quarantine=quarantine,
        notes=notes,
        rows_suppressed=rows_suppressed,
    )
    # rows rejected by the load (conflicts) are read again for their raw rows
    _stage_raw(con, None, outcome.problems.index, passed.raw, first=False, reader=reader)
    _write_quarantine(con, report, passed.raw.finish(con))
    _write_log(con, report, reader, {**options, "notes": list(notes)}, started)
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


def _raw_rows_json(rows: pd.DataFrame) -> list[str]:
    if rows.empty:
        return []
    text = rows.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
    return text.splitlines()


def _stage_raw(
    con: duckdb.DuckDBPyConnection, chunk: pd.DataFrame | None, positions: pd.Index,
    raw: _Staging, *, first: bool, reader: ChunkedInput | None = None,
) -> None:
    """Stage the raw row (JSON) at each of ``positions``: from ``chunk``, or read again from
    ``reader`` (nothing when there are no positions and it is not the first)."""
    positions = positions.unique()
    if not first and positions.empty:
        return
    rows = chunk.loc[positions] if chunk is not None else reader.rows(positions)  # type: ignore[union-attr]
    frame = pd.DataFrame({"_row": positions.to_numpy(dtype="int64") + 1,
                          "raw": pd.Series(_raw_rows_json(rows), dtype=object)})
    con.register(_CHUNK, frame)
    try:
        raw.append(con, f"SELECT CAST(_row AS BIGINT) AS _row, CAST(raw AS VARCHAR) AS raw "
                        f"FROM {_CHUNK}", len(frame), first=first)
    finally:
        con.unregister(_CHUNK)


def _write_quarantine(con: duckdb.DuckDBPyConnection, report: IngestReport, raw: str) -> None:
    """Insert the report's quarantine rows with their raw rows (the relation ``raw``)."""
    if report.quarantine.empty:
        return
    frame = report.quarantine.rename(columns={"column": "column_name"})
    frame.insert(0, "source", report.source)
    frame.insert(0, "table_name", report.table)
    frame.insert(0, "ingest_id", report.ingest_id)
    frame["value"] = frame["value"].astype("str")
    frame["_seq"] = np.arange(len(frame))
    con.register("_segkit_quarantine_in", frame)
    try:
        con.execute(
            "INSERT INTO quarantine (ingest_id, table_name, source, row_number, column_name, "
            "value, reason, raw) SELECT q.ingest_id, q.table_name, q.source, q.row_number, "
            f"q.column_name, q.value, q.reason, r.raw FROM _segkit_quarantine_in q "
            f"LEFT JOIN {raw} r ON r._row = q.row_number ORDER BY q._seq"
        )
    finally:
        con.unregister("_segkit_quarantine_in")


def _write_log(
    con: duckdb.DuckDBPyConnection,
    report: IngestReport,
    raw: ChunkedInput,
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
