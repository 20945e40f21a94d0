"""The workspace: one DuckDB file holding the canonical tables, the ingest log and the quarantine."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from segkit._pause import pause_point
from segkit._schema import ORDER_LINES, TABLES, Column, TableSchema
from segkit.errors import (
    CorruptWorkspaceError,
    InputError,
    SegkitError,
    ValidationError,
    WorkspaceLockedError,
    environment_fault,
)
from segkit.io._ingest import remove_staging
from segkit.io._machine import DEFAULT_MACHINE_OPEN_SECONDS
from segkit.io._pending import (
    clear_journal,
    fsync_path,
    journal_path,
    remove_compact_leftovers,
    sibling,
)
from segkit.io._report import IngestReport
from segkit.io._sql import ident, literal
from segkit.io._suppression import PRIVACY_TABLES

INGEST_LOG = TableSchema(
    "ingest_log",
    (
        Column("ingest_id", "BIGINT", required=True),
        Column("table_name", "VARCHAR", required=True),
        Column("source", "VARCHAR", required=True, description="file path, or 'DataFrame'"),
        Column("sha256", "VARCHAR", description="of the file bytes (or of the DataFrame's values)"),
        Column("started_at", "TIMESTAMPTZ"),
        Column("finished_at", "TIMESTAMPTZ"),
        Column("rows_read", "BIGINT"),
        Column("rows_loaded", "BIGINT"),
        Column("rows_duplicate", "BIGINT"),
        Column("rows_quarantined", "BIGINT"),
        Column("status", "VARCHAR", description="'ok' or 'ok_with_quarantine'"),
        Column("options", "JSON", description="mapping, tz, sep, notes, segkit version"),
        Column("rows_suppressed", "BIGINT",
               description="rows of forgotten subscribers skipped (suppression list)"),
    ),
    key=("ingest_id",),
)

QUARANTINE = TableSchema(
    "quarantine",
    (
        Column("ingest_id", "BIGINT", required=True),
        Column("table_name", "VARCHAR", required=True),
        Column("source", "VARCHAR", required=True),
        Column("row_number", "BIGINT", description="1-based data row (the row after the header is 1)"),
        Column("column_name", "VARCHAR", description="the first column that failed"),
        Column("value", "VARCHAR", description="the offending value as text"),
        Column("reason", "VARCHAR"),
        Column("raw", "JSON", description="the whole input row, with the source's column names"),
    ),
    key=("ingest_id", "row_number"),
)

#: Everything :meth:`Workspace.table` can return.
WORKSPACE_TABLES: dict[str, TableSchema] = {
    **TABLES, "order_lines": ORDER_LINES, "ingest_log": INGEST_LOG, "quarantine": QUARANTINE, **PRIVACY_TABLES
}
#: Columns added after a table was first released: ``(table, column, type and default)``, added
#: to older workspace files when opened for writing.
_ADDED_COLUMNS = (("ingest_log", "rows_suppressed", "BIGINT DEFAULT 0"),)


@contextlib.contextmanager
def _sole_instance(path: Path) -> Iterator[None]:
    """Hold ``path`` with a read-only probe connection, which DuckDB refuses while any other
    connection of this process still has the file open (a different configuration of the same
    cached instance); the probe also keeps other processes from opening it meanwhile."""
    try:
        probe = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise InputError(
            f"{path}: another connection to this workspace is open in this process; close it "
            "(e.g. other Workspace objects) and call Workspace.compact() again"
        ) from error
    try:
        yield
    finally:
        probe.close()


def wait_for_workspace(path: str | Path, *, wait_seconds: float = 5.0, poll_seconds: float = 0.2) -> None:
    """Return once another process could open ``path`` read-only, as a report kernel will.

    DuckDB lets one process write a file, or many read it. While a writer (an ingest, a
    ``forget``) holds it, retry for up to ``wait_seconds``, then raise
    :class:`~segkit.errors.WorkspaceLockedError` naming the holder's PID, so a report fails
    at once instead of after its kernel has started. A damaged file raises
    :class:`~segkit.errors.CorruptWorkspaceError` here too.
    """
    deadline = time.monotonic() + max(0.0, wait_seconds)
    while True:
        try:
            duckdb.connect(str(path), read_only=True).close()
            return
        except duckdb.Error as error:
            fault = _open_fault(Path(path), error)
            if not isinstance(fault, WorkspaceLockedError) or time.monotonic() >= deadline:
                if not isinstance(fault, WorkspaceLockedError):
                    raise fault from error
                raise WorkspaceLockedError(f"{fault} (waited {wait_seconds:g} s)") from error
        time.sleep(poll_seconds)


def _open_fault(path: Path, error: Exception) -> SegkitError:
    if "different configuration" in str(error):  # this very process holds it, opened otherwise
        return WorkspaceLockedError(
            f"workspace {path} is already open in this process (PID {os.getpid()}) with other "
            "settings (read-only or writable); close that Workspace first"
        )
    fault = environment_fault(error)
    if isinstance(fault, CorruptWorkspaceError):
        return fault.naming(path)
    return fault or InputError(f"{path}: cannot open the workspace ({error})")


def _create_sql(schema: TableSchema) -> str:
    columns = ", ".join(f'"{c.name}" {c.sql_type}' for c in schema.columns)
    return f'CREATE TABLE IF NOT EXISTS "{schema.name}" ({columns})'


class Workspace:
    """A DuckDB file with ``events``, ``subscribers``, ``campaigns``, ``assignments``,
    ``ingest_log`` and ``quarantine``, created when absent.

    Parameters
    ----------
    path
        The DuckDB file; parent directories are created.
    machine_open_seconds
        Window of the machine-open timing heuristic (see :mod:`segkit.io._machine`).
    read_only
        Open without write access (no tables are created).
    create
        Create the file when it does not exist (the default for writable workspaces). With
        ``create=False`` (and always with ``read_only``) a missing file raises
        :class:`~segkit.errors.InputError`.

    Timestamps are stored as UTC ``TIMESTAMPTZ`` and the connection's time zone is UTC, so
    :meth:`table` returns tz-aware UTC columns. One process may write at a time (a DuckDB rule).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        machine_open_seconds: float = DEFAULT_MACHINE_OPEN_SECONDS,
        read_only: bool = False,
        create: bool = True,
    ) -> None:
        if machine_open_seconds < 0:
            raise ValidationError(f"machine_open_seconds must be >= 0, got {machine_open_seconds}")
        self.path = Path(path)
        self.machine_open_seconds = float(machine_open_seconds)
        self.read_only = read_only
        if (read_only or not create) and not self.path.exists():
            raise InputError(f"{self.path}: workspace not found (run `segkit ingest` or `segkit demo` first)")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        #: What opening completed of an interrupted erasure (:mod:`segkit.io._pending`), if any.
        self.completed_erasure: Any = None
        self._con: duckdb.DuckDBPyConnection | None = None
        if read_only and journal_path(self.path).exists():
            self._complete_erasure_first()
        self._con = self._open()
        if not read_only and journal_path(self.path).exists():
            self._complete_erasure()

    def _complete_erasure(self) -> None:
        """Finish the erasure an earlier process left half done (the journal says so)."""
        from segkit.privacy._resume import resume_erasure  # privacy builds on io

        try:
            self.completed_erasure = resume_erasure(self)
        except BaseException:
            self.close()
            raise

    def _complete_erasure_first(self) -> None:
        """Before a read-only opening: finish the interrupted erasure through a writable one."""
        try:
            with Workspace(self.path, machine_open_seconds=self.machine_open_seconds,
                           create=False) as writer:
                self.completed_erasure = writer.completed_erasure
        except InputError as error:
            raise InputError(f"an interrupted erasure must be completed before this workspace "
                             f"is read, and could not be: {error}") from error

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.Error as error:
            raise _open_fault(self.path, error) from error
        con.execute("SET TimeZone = 'UTC'")
        if not self.read_only:
            remove_staging(self.path)  # left by a killed ingest; this connection holds the lock
            for schema in WORKSPACE_TABLES.values():
                con.execute(_create_sql(schema))
            for table, column, definition in _ADDED_COLUMNS:
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{column}" {definition}')
        return con

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (segkit-internal use)."""
        if self._con is None:
            raise ValidationError(f"workspace {self.path} is closed")
        return self._con

    def ingest(
        self,
        table: str,
        source: pd.DataFrame | str | Path,
        *,
        mapping: Mapping[str, str] | None = None,
        tz: str | None = None,
        sep: str | None = None,
        progress: Callable[[int], Any] | None = None,
        allow_reingest: bool = False,
        constants: Mapping[str, object] | None = None,
    ) -> IngestReport:
        """Validate ``source`` and load it into ``table`` in one transaction.

        Parameters
        ----------
        table
            One of ``events``, ``subscribers``, ``campaigns``, ``assignments``, or ``orders``:
            order (invoice) lines with ``order_id``, ``subscriber_id``, ``ts`` and
            ``quantity`` + ``unit_price`` (or ``value``), optionally ``product_id``,
            ``product_name``, ``category``. The lines are kept in ``order_lines`` and each order
            becomes ONE ``purchase`` event (value = sum of quantity x unit_price), or a
            ``refund`` with a negative value for a cancellation or return, linked to the order
            it undoes where the log allows it (see :mod:`segkit.io._orders`). The counts are
            lines; lines without a customer are quarantined.
        source
            A DataFrame, or a path to a CSV (optionally gzipped; detected from the bytes) or
            Parquet file.
        mapping
            ``{canonical_column: source_column}`` for columns named differently in the source.
            Source columns named like a canonical column (ignoring case and surrounding spaces)
            are taken without a mapping.
        tz
            IANA zone used for timestamps without an offset; without it such timestamps raise
            :class:`~segkit.errors.InputError`. Timestamps with an offset keep their own.
        sep
            CSV delimiter; detected from the header (``,``, ``;``, tab, ``|``) when omitted.
        progress
            Called with increments summing to :data:`segkit.io.INGEST_PROGRESS_TOTAL`.
        constants
            ``{column: value}`` columns filled with one value for every row (``--set
            column=value``), e.g. ``{"event_type": "purchase"}`` for a purchase-only log; the
            column may be canonical or an extra one, but not one the source already has.
        allow_reingest
            Load rows of subscribers erased by :func:`segkit.privacy.forget` (and lift their
            suppression, with a ``reingest`` audit entry). By default such rows are skipped:
            neither loaded nor quarantined, and counted in ``rows_suppressed``.

        Returns
        -------
        IngestReport
            ``rows_read == rows_loaded + rows_duplicate + rows_quarantined + rows_suppressed``
            and the quarantined rows (also stored in the ``quarantine`` table with the raw row
            as JSON).

        Raises
        ------
        InputError
            Structural problems, before anything is written: file missing, unreadable, empty
            (0 bytes), not UTF-8, truncated gzip, ragged rows, not CSV/Parquet, a required column
            absent after mapping, an unknown mapping target, naive timestamps without ``tz``.

        Notes
        -----
        *Row numbers* in the quarantine are 1-based data rows: the first row after the CSV header
        is row 1 (a quoted field spanning lines still counts as one row); for a DataFrame, its
        position + 1.

        *Row checks* (the first failing column is reported): required values present (the CSV
        cells ``""``, ``NA``, ``N/A``, ``NaN``, ``NULL``, ``None`` ... are missing); ISO 8601
        timestamps between 1990-01-01 and 2100-01-01; ``event_type`` in
        :data:`segkit._schema.EVENT_TYPES` after :data:`~segkit._schema.EVENT_TYPE_ALIASES`
        (case-insensitive, spaces and hyphens read as underscores); ``value`` a finite number in
        [0, 1e9] written with a decimal point (``12,5`` and ``$12`` are rejected; so is the text
        ``NaN`` there: an unknown value is an empty cell); ``properties``
        and ``attributes`` JSON objects; ``timezone`` an IANA name; ``consent`` a boolean
        (true/false, yes/no, 1/0); ``email`` containing ``@``; an assignment's subscriber
        already in ``subscribers``. A purchase without ``value`` is accepted (unknown revenue).

        *Duplicates and upserts*: events dedupe on ``event_id``, or on ``"h" + md5`` of the
        canonical fields when the source has none; a repeated key with identical content (in the
        file or already stored) is a duplicate, a repeated key with different content in the same
        file is quarantined. Subscribers and campaigns: an identical row is a duplicate, a
        changed row is updated and counts as loaded; columns the source lacks keep their stored
        values and ``attributes`` merge key by key. Assignments never change arm (quarantined).
        Quarantined rows are not remembered, so re-ingesting a file quarantines them again.

        *Extra columns* go into ``properties`` (events) or ``attributes`` (subscribers), keyed by
        column name (an explicit ``properties`` key wins); campaigns and assignments ignore them.
        A report note says which. A UTF-8 byte-order mark is ignored; a CSV with a header and no
        rows loads nothing and is not an error.

        *Machine opens* are flagged in ``events.machine_open`` (see :mod:`segkit.io._machine`);
        the flags of all opens of the subscribers an ingest touches are recomputed.

        *Memory*: a CSV (and a Parquet file of text, timestamp and value columns) is read and
        validated one million rows at a time and its clean rows staged as compressed Parquet
        files in a directory beside the workspace (``<workspace>.ingest``, removed when the
        ingest ends, or by the next opening if the process was killed); DuckDB then loads them
        within a 2 GB memory limit, running the statements over all rows (repeated ids, machine
        opens) in hash slices of at most 25M rows, so a file of any length is ingested in
        bounded memory and linear time with the same results, messages and row numbers as a
        whole-file read. Orders, DataFrames and other Parquet files are read whole.
        """
        from segkit.io._ingest import run_ingest

        return run_ingest(
            self, table, source, mapping=mapping, tz=tz, sep=sep, progress=progress,
            allow_reingest=allow_reingest, constants=constants,
        )

    def compact(self) -> None:
        """Rewrite the DuckDB file so deleted rows leave no bytes behind.

        DuckDB reuses freed blocks but does not wipe them (``CHECKPOINT`` and ``VACUUM`` leave
        deleted strings in the file), so after an erasure the database is copied into a fresh
        file (``ws.duckdb.compact``, via ``COPY FROM DATABASE``), the connection closed (which
        checkpoints and removes the ``.wal``), the fresh file flushed to disk (fsync) and moved
        over the old one with :func:`os.replace` (atomic on one file system), and the directory
        flushed. Only then is the pending-erasure journal (:mod:`segkit.io._pending`) removed,
        so a crash at any point leaves either the old file and the journal (the next opening
        compacts again) or the compacted file. On failure the fresh file is removed and the
        workspace is left as it was.

        Raises
        ------
        InputError
            Read-only, or another connection to the same file is open in this process (DuckDB
            shares one database instance per file, which would keep writing to the old file):
            close the other :class:`Workspace` objects first.
        """
        con = self.connection
        if self.read_only:
            raise InputError(f"{self.path}: cannot compact a workspace opened read-only")
        fresh = sibling(self.path, ".compact")
        remove_compact_leftovers(self.path)
        source = con.execute("SELECT current_database()").fetchall()[0][0]
        try:
            con.execute("CHECKPOINT")
            con.execute(f"ATTACH {literal(str(fresh))} AS _segkit_fresh")
            try:
                con.execute(f"COPY FROM DATABASE {ident(source)} TO _segkit_fresh")
                pause_point("compact-copied")
            finally:
                con.execute("DETACH _segkit_fresh")
            self.close()
            self._swap_in(fresh)
        except BaseException:
            remove_compact_leftovers(self.path)
            raise
        finally:
            if self._con is None:
                self._con = self._open()
        clear_journal(self.path)

    def _swap_in(self, fresh: Path) -> None:
        """Durably replace the (closed) workspace file with the compacted ``fresh`` one."""
        for stale in (sibling(fresh, ".wal"), sibling(self.path, ".wal")):
            if stale.exists():  # a log replayed against the other file would corrupt it
                raise InputError(f"{stale}: a write-ahead log remained after closing; the "
                                 "workspace was not replaced")
        fsync_path(fresh)
        with _sole_instance(self.path):
            pause_point("compact-replace")
            os.replace(fresh, self.path)
        fsync_path(self.path.parent)
        pause_point("compact-replaced")

    def table(self, name: str) -> pd.DataFrame:
        """A whole workspace table as a DataFrame (timestamps tz-aware UTC)."""
        if name not in WORKSPACE_TABLES:
            raise ValidationError(
                f"unknown table {name!r}; valid: {', '.join(sorted(WORKSPACE_TABLES))}"
            )
        # via Arrow: DuckDB's .df() trips a pandas 3.1 deprecation warning
        return self.connection.sql(f'SELECT * FROM "{name}"').to_arrow_table().to_pandas()

    @staticmethod
    def connect(target: Any, *, assume_utc: bool = False) -> Any:
        """Open a read-only workspace whose tables (``events``, ``subscribers``, ...) live in
        another engine, reached through Ibis: Spark, a warehouse, or another DuckDB.

        Parameters
        ----------
        target
            A URL for :func:`ibis.connect` (``"pyspark://"``, ``"pyspark://?spark.master=local[2]"``,
            ``"duckdb:///path/to.duckdb"`` (opened read-only), ``"postgres://user:pw@host:5432/db"``,
            ``"bigquery://project/dataset"``, ...; ``"spark"`` is short for ``"pyspark://"``), or
            an existing Ibis connection (``ibis.pyspark.connect(spark)``,
            ``ibis.postgres.connect(...)``), which the workspace does not close.
        assume_utc
            Read zone-less timestamp columns as UTC for an engine whose session time zone segkit
            cannot query; with Spark, DuckDB and Postgres the session zone is queried instead and
            must be UTC (see :mod:`segkit.features._source`).

        Returns
        -------
        segkit.io.ConnectedWorkspace
            Accepted wherever a workspace is read: :func:`segkit.features.compute`, ``rfm``,
            ``calibration_holdout``, the consent gate, triggers and send time, which run their
            queries in the engine. Writes raise :class:`~segkit.errors.InputError`: ingest stays
            DuckDB-only.
        """
        from segkit.io._connect import connect

        return connect(target, assume_utc=assume_utc)

    def ibis(self) -> Any:
        """An ibis DuckDB backend on this workspace's connection (for :mod:`segkit.features`)."""
        import ibis

        return ibis.duckdb.from_connection(self.connection)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._con is None else "open"
        return f"Workspace({str(self.path)!r}, {state})"
