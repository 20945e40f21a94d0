"""Turn what the caller passes (a Workspace, an Ibis backend, or DataFrames) into Ibis tables.

Only the canonical columns the features read are projected; optional columns that are absent get
typed nulls (or ``False`` for ``machine_open``), so the feature expressions see one shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.common.exceptions import TableNotFound

from segkit._schema import require_columns
from segkit.errors import InputError, ValidationError

__all__ = ["EVENT_COLUMNS", "RFM_EVENT_COLUMNS", "Source", "Tables", "resolve"]

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

#: What callers may pass: a Workspace (anything with ``.ibis()``), an Ibis backend, or a mapping
#: of table name to pandas DataFrame (or Ibis table).
Source = Any


@dataclass(frozen=True)
class Tables:
    """Canonical, projected Ibis tables; ``subscribers`` is None for transaction-only data."""

    events: ir.Table
    subscribers: ir.Table | None


def resolve(source: Source, *, event_columns: tuple[str, ...] = EVENT_COLUMNS) -> Tables:
    """Return the events (and subscribers, when present) behind ``source`` as canonical tables."""
    if isinstance(source, Tables):
        return source
    raw = _raw_tables(source)
    if "events" not in raw:
        raise InputError(
            f"no 'events' table in the source; tables present: {', '.join(sorted(raw)) or 'none'}"
        )
    events = _canonical_events(raw["events"], event_columns)
    subscribers = raw.get("subscribers")
    return Tables(events, None if subscribers is None else _canonical_subscribers(subscribers))


def _raw_tables(source: Source) -> dict[str, ir.Table]:
    if isinstance(source, Mapping):
        return _tables_from_mapping(source)
    backend = source.ibis() if callable(getattr(source, "ibis", None)) else source
    if not isinstance(backend, ibis.BaseBackend):
        raise ValidationError(
            "source must be a segkit Workspace, an Ibis backend with 'events' (and optionally "
            "'subscribers') tables, or a mapping {'events': DataFrame, 'subscribers': DataFrame}; "
            f"got {type(source).__name__}"
        )
    tables = {}
    for name in ("events", "subscribers"):
        try:
            tables[name] = backend.table(name)
        except TableNotFound:
            continue
    return tables


def _tables_from_mapping(source: Mapping[str, Any]) -> dict[str, ir.Table]:
    unknown = sorted(set(source) - {"events", "subscribers"})
    if unknown:
        raise ValidationError(
            f"unknown table name(s) {', '.join(map(repr, unknown))}; valid: 'events', 'subscribers'"
        )
    tables = {}
    for name, value in source.items():
        if value is None or isinstance(value, ir.Table):
            if value is not None:
                tables[name] = value
            continue
        if not isinstance(value, pd.DataFrame):
            raise ValidationError(
                f"table {name!r} must be a pandas DataFrame or an Ibis table, got {type(value).__name__}"
            )
        # An in-memory table, run by Ibis' default backend (an in-memory DuckDB).
        tables[name] = ibis.memtable(_arrow_friendly(value))
    return tables


def _arrow_friendly(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop a pandas index that is not a plain range so it does not become a column."""
    if isinstance(frame.index, pd.RangeIndex):
        return frame
    return frame.reset_index(drop=True)


def _check_timestamp(table: ir.Table, name: str, column: str) -> None:
    dtype = table[column].type()
    if not dtype.is_timestamp():
        raise ValidationError(
            f"column {name}.{column} must be a time-zone-aware timestamp, got {dtype}; "
            "parse it (with its time zone) before computing features"
        )
    if dtype.timezone is None:
        raise ValidationError(
            f"column {name}.{column} has no time zone; localize it (e.g. "
            "df[col].dt.tz_localize('UTC')) so instants are unambiguous"
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
