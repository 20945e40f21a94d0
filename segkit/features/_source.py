"""Turn what the caller passes (a Workspace, an Ibis backend, or tables) into Ibis tables.

A source is a segkit ``Workspace`` (anything with ``.ibis()``, including one opened on another
engine with ``Workspace.connect``), an Ibis backend (DuckDB, Spark, Postgres, ...) holding the
tables, or a mapping ``{"events": ..., "subscribers": ...}`` of pandas DataFrames or Ibis tables.

Timestamps must name their instants. Zone-aware columns are taken as they are. A zone-less
timestamp column (Spark's ``TIMESTAMP``, Postgres' ``timestamp without time zone``, DuckDB's
``TIMESTAMP``) is read as UTC when the engine's session time zone is UTC (queried: Spark
``spark.sql.session.timeZone``, DuckDB and Postgres ``TimeZone``), or when the caller says so
with ``assume_utc=True`` for an engine whose session zone segkit cannot query; otherwise
:class:`~segkit.errors.ValidationError` says what to do. Never silently: a session in another
zone would shift every instant the engine converts (literals, the values it returns).

Only the canonical columns the features read are projected; optional columns that are absent get
typed nulls (or ``False`` for ``machine_open``), so the feature expressions see one shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd
from ibis.common.exceptions import TableNotFound

from segkit._engine import SET_UTC, UTC_NAMES, session_time_zone
from segkit._schema import require_columns
from segkit.errors import InputError, ValidationError

__all__ = [
    "EVENT_COLUMNS",
    "RFM_EVENT_COLUMNS",
    "Source",
    "Tables",
    "resolve",
    "source_table",
]

#: Event columns every feature table needs.
EVENT_COLUMNS = ("campaign_id", "event_type", "subscriber_id", "ts", "value")
#: Event columns the RFM summary needs.
RFM_EVENT_COLUMNS = ("event_type", "subscriber_id", "ts", "value")
#: Subscriber columns and the type used when a column is absent (subscriber_id is required).
SUBSCRIBER_OPTIONAL = {
    "signup_at": "timestamp('UTC')",
    "timezone": "string",
    "consent": "boolean",
    "unsubscribed_at": "timestamp('UTC')",
}

#: The canonical timestamp columns whose zone segkit checks (other columns are left as they are).
TIMESTAMP_COLUMNS = frozenset({"ts", "signup_at", "unsubscribed_at", "sent_at", "assigned_at"})
#: What callers may pass: a Workspace (anything with ``.ibis()``), an Ibis backend, or a mapping
#: of table name to pandas DataFrame (or Ibis table).
Source = Any


@dataclass(frozen=True)
class Tables:
    """Canonical, projected Ibis tables; ``subscribers`` is None for transaction-only data."""

    events: ir.Table
    subscribers: ir.Table | None


def resolve(
    source: Source,
    *,
    event_columns: tuple[str, ...] = EVENT_COLUMNS,
    assume_utc: bool = False,
) -> Tables:
    """Return the events (and subscribers, when present) behind ``source`` as canonical tables,
    timestamps as UTC (see the module docstring for zone-less columns and ``assume_utc``)."""
    if isinstance(source, Tables):
        return source
    tables = {name: source_table(source, name, assume_utc=assume_utc, allowed=("events", "subscribers"))
              for name in ("events", "subscribers")}
    if tables["events"] is None:
        present = sorted(name for name, table in tables.items() if table is not None)
        raise InputError(
            f"no 'events' table in the source; tables present: {', '.join(present) or 'none'}"
        )
    events = _canonical_events(tables["events"], event_columns)
    subscribers = tables["subscribers"]
    return Tables(events, None if subscribers is None else _canonical_subscribers(subscribers))


def source_table(
    source: Source,
    name: str,
    *,
    assume_utc: bool = False,
    allowed: tuple[str, ...] | None = None,
) -> ir.Table | None:
    """Table ``name`` of ``source`` as an Ibis table with every timestamp column UTC, or None
    when the source has no such table.

    ``source`` is a Workspace (anything with ``.ibis()``; its own ``assume_utc`` attribute, set
    by ``Workspace.connect``, counts too), an Ibis backend, or a mapping of names to pandas
    DataFrames or Ibis tables (``allowed``, when given, lists the names a mapping may hold).
    """
    assume_utc = bool(assume_utc or getattr(source, "assume_utc", False))
    if isinstance(source, Mapping):
        if allowed is not None:
            unknown = sorted(set(source) - set(allowed))
            if unknown:
                raise ValidationError(
                    f"unknown table name(s) {', '.join(map(repr, unknown))}; "
                    f"valid: {', '.join(map(repr, sorted(allowed)))}"
                )
        value = source.get(name)
        if value is None:
            return None
        if isinstance(value, pd.DataFrame):
            return _frame_table(value, name, assume_utc)
        if not isinstance(value, ir.Table):
            raise ValidationError(
                f"table {name!r} must be a pandas DataFrame or an Ibis table, got {type(value).__name__}"
            )
        return utc_table(value, name, value._find_backend(use_default=True), assume_utc=assume_utc)
    backend = source.ibis() if callable(getattr(source, "ibis", None)) else source
    if not isinstance(backend, ibis.BaseBackend):
        raise ValidationError(
            "source must be a segkit Workspace, an Ibis backend with 'events' (and optionally "
            "'subscribers') tables, or a mapping {'events': DataFrame or Ibis table, "
            f"'subscribers': ...}}; got {type(source).__name__}"
        )
    try:
        table = backend.table(name)
    except TableNotFound:
        return None
    except Exception:  # some backends raise their own "no such table"
        if name in backend.list_tables():
            raise
        return None
    return utc_table(table, name, backend, assume_utc=assume_utc)


def _frame_table(frame: pd.DataFrame, name: str, assume_utc: bool) -> ir.Table:
    """An in-memory table, run by Ibis' default backend (an in-memory DuckDB); with
    ``assume_utc`` zone-less datetime columns are localized to UTC here, in pandas (exact)."""
    if not isinstance(frame.index, pd.RangeIndex):  # a plain index would become a column
        frame = frame.reset_index(drop=True)
    if assume_utc:
        naive = [c for c in frame.columns if c in TIMESTAMP_COLUMNS
                 and pd.api.types.is_datetime64_dtype(frame[c].dtype)
                 and not isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
        if naive:
            frame = frame.assign(**{c: frame[c].dt.tz_localize("UTC") for c in naive})
    table = ibis.memtable(frame)
    for column, dtype in table.schema().items():
        if column in TIMESTAMP_COLUMNS and dtype.is_timestamp() and dtype.timezone is None:
            raise ValidationError(
                f"column {name}.{column} has no time zone; localize it (e.g. "
                "df[col].dt.tz_localize('UTC')) so instants are unambiguous, or pass "
                "assume_utc=True if its values are UTC"
            )
    return table


def utc_table(
    table: ir.Table, name: str, backend: ibis.BaseBackend | None, *, assume_utc: bool = False
) -> ir.Table:
    """``table`` with its zone-less canonical timestamp columns (:data:`TIMESTAMP_COLUMNS`) cast
    to UTC, after checking that the engine reads them as UTC (its session zone is UTC, or
    ``assume_utc`` for an engine whose zone cannot be queried). Zone-aware columns are kept."""
    naive = [c for c, t in table.schema().items()
             if c in TIMESTAMP_COLUMNS and t.is_timestamp() and t.timezone is None]
    if not naive:
        return table
    engine = getattr(backend, "name", "unknown")
    zone = None if backend is None else session_time_zone(backend)
    where = f"column{'s' if len(naive) > 1 else ''} {', '.join(f'{name}.{c}' for c in naive)}"
    if zone is None and not assume_utc:
        raise ValidationError(
            f"{where} {'have' if len(naive) > 1 else 'has'} no time zone and segkit cannot query "
            f"the {engine} session's time zone; pass assume_utc=True (segkit --assume-utc) if "
            "the values are UTC and the session reads them as UTC, or store them time-zone aware"
        )
    if zone is not None and zone.strip().lower() not in UTC_NAMES:
        raise ValidationError(
            f"{where} {'have' if len(naive) > 1 else 'has'} no time zone and the {engine} "
            f"session time zone is {zone!r}, not UTC, so the engine would shift every instant "
            f"segkit compares or reads (assume_utc cannot undo that); set the session time zone "
            f"to UTC ({SET_UTC}) or store the columns time-zone aware"
        )
    return table.mutate(**{
        c: table[c].cast(dt.Timestamp(timezone="UTC", scale=table[c].type().scale)) for c in naive
    })


def _check_timestamp(table: ir.Table, name: str, column: str) -> None:
    dtype = table[column].type()
    if not dtype.is_timestamp():
        raise ValidationError(
            f"column {name}.{column} must be a time-zone-aware timestamp, got {dtype}; "
            "parse it (with its time zone) before computing features"
        )


def _canonical_events(table: ir.Table, required: tuple[str, ...]) -> ir.Table:
    require_columns(table.columns, "events", required)
    _check_timestamp(table, "events", "ts")
    columns = table.columns
    machine = (
        table.machine_open.cast("boolean").fill_null(False)
        if "machine_open" in columns
        else ibis.literal(False)
    )
    return table.select(
        subscriber_id=table.subscriber_id.cast("string"),
        event_type=table.event_type.cast("string"),
        ts=table.ts,
        campaign_id=(
            table.campaign_id.cast("string") if "campaign_id" in columns else ibis.null("string")
        ),
        value=table.value.cast("float64") if "value" in columns else ibis.null("float64"),
        machine_open=machine,
        properties=_properties_text(table),
    )


def _properties_text(table: ir.Table) -> ir.StringValue:
    """``properties`` as JSON text (null when the column is absent or holds only nulls)."""
    if "properties" not in table.columns:
        return ibis.null("string")
    dtype = table.properties.type()
    if dtype.is_string() or dtype.is_json():
        return table.properties.cast("string")
    if dtype.is_struct() or dtype.is_map() or dtype.is_array():
        raise ValidationError(
            f"column events.properties must be JSON text (or JSON), got {dtype}; "
            "serialise mappings with json.dumps before computing features"
        )
    return ibis.null("string")  # an all-null column (no type of its own)


def _canonical_subscribers(table: ir.Table) -> ir.Table:
    require_columns(table.columns, "subscribers", ("subscriber_id",))
    for column in ("signup_at", "unsubscribed_at"):
        if column in table.columns:
            _check_timestamp(table, "subscribers", column)
    values = {"subscriber_id": table.subscriber_id.cast("string")}
    for column, dtype in SUBSCRIBER_OPTIONAL.items():
        values[column] = table[column].cast(dtype) if column in table.columns else ibis.null(dtype)
    return table.select(**values)
