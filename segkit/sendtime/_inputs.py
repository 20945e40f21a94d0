"""Turn a Workspace or a mapping of DataFrames into the arrays the send-time models need.

Events are cut at ``as_of`` (only ``ts <= as_of`` is used). When the events carry no
``machine_open`` column (raw DataFrames that never went through ingest), the flag is computed
with the ingest rule itself, :func:`segkit.io._machine.refresh_machine_opens`, run on an
in-memory DuckDB copy of the events: no second implementation of the rule exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit._schema import require_columns
from segkit.errors import InputError, ValidationError
from segkit.sendtime._local_time import resolve_zones

__all__: list[str] = []

EVENT_COLUMNS = ("subscriber_id", "event_type", "ts")
USED_TYPES = ("send", "open", "click", "unsubscribe")
#: Sort keys pack (subscriber code, epoch seconds) into one int64: seconds use the low bits.
TS_BITS = 34


@dataclass(frozen=True)
class SendTimeData:
    """Positional arrays over events of one type, subscriber codes into ``subscribers``."""

    subscribers: pd.DataFrame  # subscriber_id, timezone, timezone_fallback, segment (str)
    zones: list[str]  # zone codes index into this
    send_sub: np.ndarray
    send_ts: np.ndarray  # UTC epoch seconds, sorted by (sub, ts)
    open_sub: np.ndarray  # human opens only
    open_ts: np.ndarray
    click_sub: np.ndarray
    click_ts: np.ndarray
    unsub_sub: np.ndarray
    unsub_ts: np.ndarray
    zone_code: np.ndarray  # per subscriber
    dominant_zone: str


def read_tables(source: Any, as_of: pd.Timestamp | None = None) -> dict[str, Any]:
    """``{"events": df, "subscribers": df | None, "segments": Series | DataFrame | None}``.

    A workspace (also one opened on Spark or a warehouse with ``Workspace.connect``), an Ibis
    backend or a mapping of Ibis tables is read through the engine: only the event columns and
    types the send-time models use (:data:`EVENT_COLUMNS`, ``machine_open``; ``send``, ``open``,
    ``click``, ``unsubscribe``) and only events at or before ``as_of``, never every column
    (``properties`` and ids are most of an event log's bytes). Zone-less timestamps are checked
    as :func:`segkit.features.compute` checks them (see :mod:`segkit.features._source`).
    """
    if isinstance(source, Mapping):
        unknown = sorted(set(source) - {"events", "subscribers", "segments"})
        if unknown:
            raise ValidationError(
                f"unknown table name(s) {', '.join(map(repr, unknown))}; "
                "valid: 'events', 'segments', 'subscribers'"
            )
        if source.get("events") is None:
            raise InputError("no 'events' table given; pass {'events': DataFrame, ...}")
        if _is_ibis_table(source["events"]):
            tables = {k: source[k] for k in ("events", "subscribers") if source.get(k) is not None}
            return {**_engine_tables(tables, as_of), "segments": source.get("segments")}
        return {k: source.get(k) for k in ("events", "subscribers", "segments")}
    backend = source.ibis() if callable(getattr(source, "ibis", None)) else source
    if _is_ibis_backend(backend):
        return _engine_tables(source, as_of)
    if callable(getattr(source, "table", None)):
        return {"events": source.table("events"), "subscribers": source.table("subscribers"),
                "segments": None}
    raise ValidationError(
        "source must be a segkit Workspace (anything with .table(name)), an Ibis backend or a "
        "mapping {'events': DataFrame or Ibis table, 'subscribers': ..., 'segments': Series}; got "
        f"{type(source).__name__}"
    )


def _is_ibis_backend(value: Any) -> bool:
    import ibis

    return isinstance(value, ibis.BaseBackend)


def _is_ibis_table(value: Any) -> bool:
    import ibis.expr.types as ir

    return isinstance(value, ir.Table)


def _engine_tables(source: Any, as_of: pd.Timestamp | None) -> dict[str, Any]:
    """The events and subscribers the models need, selected and filtered in the engine."""
    import ibis

    from segkit.features._source import source_table

    events = source_table(source, "events")
    if events is None:
        raise InputError("no 'events' table in the source: send time needs events")
    require_columns(events.columns, "events", EVENT_COLUMNS)
    columns = [*EVENT_COLUMNS]
    types = list(USED_TYPES)
    if "machine_open" in events.columns:
        columns.append("machine_open")
    else:  # with_machine_flag needs campaigns, properties and deliveries for the ingest rule
        columns += [c for c in ("campaign_id", "properties") if c in events.columns]
        types.append("delivery")
    keep = [events.event_type.isin(types)]
    if as_of is not None:
        keep.append(events.ts <= ibis.literal(as_of, type="timestamp('UTC')"))
    frame = events.filter(*keep).select(*columns).to_pyarrow().to_pandas()
    table = source_table(source, "subscribers")
    if table is None:
        return {"events": frame, "subscribers": None, "segments": None}
    wanted = [c for c in ("subscriber_id", "timezone") if c in table.columns]
    subscribers = table.select(*wanted).to_pyarrow().to_pandas()
    return {"events": frame, "subscribers": subscribers, "segments": None}


def with_machine_flag(events: pd.DataFrame) -> pd.DataFrame:
    """Events with ``machine_open`` computed by the ingest rule when the column is absent."""
    if "machine_open" in events.columns:
        return events
    import duckdb

    from segkit.io._machine import DEFAULT_MACHINE_OPEN_SECONDS, refresh_machine_opens

    frame = events.reset_index(drop=True)
    props = frame["properties"] if "properties" in frame else pd.Series(None, index=frame.index, dtype="str")
    campaign = frame["campaign_id"] if "campaign_id" in frame else pd.Series(None, index=frame.index, dtype="str")
    slim = pd.DataFrame({
        "event_id": np.arange(len(frame), dtype=np.int64),
        "subscriber_id": frame["subscriber_id"].astype(str),
        "event_type": frame["event_type"].astype(str),
        "ts": frame["ts"],
        "campaign_id": campaign.astype("string"),
        "properties": props.astype("string"),
    })
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_raw", slim)
        con.execute("CREATE TABLE events AS SELECT *, NULL::BOOLEAN AS machine_open FROM _raw "
                    "WHERE event_type IN ('send', 'delivery', 'open', 'click')")
        con.execute("CREATE TABLE _affected AS SELECT DISTINCT subscriber_id FROM events")
        refresh_machine_opens(con, "_affected", DEFAULT_MACHINE_OPEN_SECONDS)
        flagged = con.execute("SELECT event_id FROM events WHERE machine_open").fetchnumpy()["event_id"]
    finally:
        con.close()
    flag = np.zeros(len(frame), dtype=bool)
    flag[np.asarray(flagged, dtype=np.int64)] = True
    return frame.assign(machine_open=flag)


def _epoch_seconds(ts: pd.Series, name: str) -> np.ndarray:
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise InputError(
            f"events.ts must be timezone-aware timestamps (stored UTC); got dtype {ts.dtype} "
            f"in table {name!r}"
        )
    # tz-aware values are stored as UTC integers in the dtype's unit: no conversion needed
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[ts.dtype.unit]
    return np.floor_divide(ts.array.asi8, per_second)


def _base_subscribers(subscribers: pd.DataFrame | None) -> pd.DataFrame:
    if subscribers is None:
        subscribers = pd.DataFrame({"subscriber_id": pd.Series([], dtype="str")})
    require_columns(subscribers.columns, "subscribers", ("subscriber_id",))
    zones = subscribers["timezone"] if "timezone" in subscribers else pd.Series(
        None, index=subscribers.index, dtype="string")
    base = pd.DataFrame({"subscriber_id": subscribers["subscriber_id"].astype("str").array,
                         "timezone": zones.astype("string").array})
    if base["subscriber_id"].duplicated().any():
        dup = base.loc[base["subscriber_id"].duplicated(), "subscriber_id"].iloc[0]
        raise ValidationError(f"subscribers.subscriber_id must be unique; {dup!r} appears twice")
    return base


def _rows_in(ids: pd.Series, known: pd.Index) -> np.ndarray:
    """Position of each id in ``known`` (-1: absent or missing).

    Arrow-backed strings are matched with ``pyarrow.compute.index_in`` (a hash of the small
    ``known`` side probed by the large side), several times faster than hashing every event id
    with pandas at tens of millions of rows."""
    arr = None
    if "pyarrow" in str(getattr(ids.dtype, "storage", "")):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(ids.array)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return known.get_indexer(ids.astype("str").where(ids.notna()))
    value_set = pa.array(known.to_numpy(dtype=object), type=arr.type)
    found = pc.fill_null(pc.index_in(arr, value_set=value_set), -1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def _encode(events: pd.DataFrame, known: pd.Index, as_of_s: int) -> tuple:
    """Per event: row in ``known`` (or in the appended extra ids), type code, seconds, keep."""
    ids = events["subscriber_id"]
    rows = _rows_in(ids, known)
    kind = np.full(len(events), -1, dtype=np.int64)
    for code, name in enumerate(USED_TYPES):
        kind[events["event_type"].eq(name).fillna(False).to_numpy(dtype=bool)] = code
    ts = _epoch_seconds(events["ts"], "events")
    keep = (kind >= 0) & (ts <= as_of_s) & ids.notna().to_numpy()
    unknown = keep & (rows < 0)
    extra = pd.Index(sorted(pd.unique(ids[unknown].astype("str"))), dtype="str")
    if len(extra):
        rows[unknown] = len(known) + extra.get_indexer(ids[unknown].astype("str"))
    return rows, extra, kind, ts, keep


def _with_zones(base: pd.DataFrame, extra: pd.Index) -> tuple[pd.DataFrame, str]:
    if len(extra):
        more = pd.DataFrame({"subscriber_id": extra.to_numpy(),
                             "timezone": pd.Series(None, index=range(len(extra)), dtype="string")})
        base = pd.concat([base, more], ignore_index=True)
    filled, fallback, dominant = resolve_zones(base["timezone"])
    base["timezone"] = filled.to_numpy()
    base["timezone_fallback"] = fallback.to_numpy()
    return base, dominant


def prepare(source: Any, as_of: pd.Timestamp) -> SendTimeData:
    """Read, cut at ``as_of``, drop machine opens and encode subscribers and zones."""
    tables = read_tables(source, as_of)
    events = tables["events"]
    if not isinstance(events, pd.DataFrame):
        raise ValidationError(f"'events' must be a pandas DataFrame, got {type(events).__name__}")
    require_columns(events.columns, "events", EVENT_COLUMNS)
    as_of_s = as_of.value // 10**9
    base = _base_subscribers(tables["subscribers"])
    known = pd.Index(base["subscriber_id"])
    rows, extra, kind, ts, keep = _encode(events, known, as_of_s)
    if "machine_open" not in events.columns:
        events = with_machine_flag(events.loc[keep])
        rows, extra, kind, ts, keep = _encode(events, known, as_of_s)
    machine = events["machine_open"].fillna(False).to_numpy(dtype=bool)
    subs, dominant = _with_zones(base, extra)
    subs["segment"] = _segments(tables["segments"], subs["subscriber_id"])
    zones = sorted(pd.unique(subs["timezone"]))
    zone_code = pd.Categorical(subs["timezone"], categories=zones).codes.astype(np.int64)
    arrays = {}
    for name, mask in (("send", kind == 0), ("open", (kind == 1) & ~machine),
                       ("click", kind == 2), ("unsub", kind == 3)):
        mask &= keep
        key = np.sort(rows[mask] << TS_BITS | ts[mask])
        arrays[f"{name}_sub"] = key >> TS_BITS
        arrays[f"{name}_ts"] = key & ((1 << TS_BITS) - 1)
    return SendTimeData(subscribers=subs, zones=zones, zone_code=zone_code,
                        dominant_zone=dominant, **arrays)


def _segments(segments: Any, ids: pd.Series) -> pd.Series:
    """Segment label per subscriber (string), or missing when no mapping is given."""
    if segments is None:
        return np.full(len(ids), pd.NA, dtype=object)
    if isinstance(segments, pd.DataFrame):
        require_columns(segments.columns, "segments", ("subscriber_id", "segment"))
        segments = segments.set_index("subscriber_id")["segment"]
    if not isinstance(segments, pd.Series):
        raise ValidationError(
            "'segments' must be a Series indexed by subscriber_id or a DataFrame with columns "
            f"subscriber_id, segment; got {type(segments).__name__}")
    mapped = segments.astype("string")
    mapped.index = mapped.index.astype(str)
    mapped = mapped[~mapped.index.duplicated()]
    return mapped.reindex(ids.to_numpy()).fillna("unassigned").to_numpy()
