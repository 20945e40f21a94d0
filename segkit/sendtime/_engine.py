"""The exposure profiles of :mod:`segkit.sendtime._exposure`, with the events read in the engine.

:func:`segkit.sendtime.recommend` on a workspace or an Ibis backend does not load event rows
with strings: one portable Ibis query (DuckDB, Spark, a warehouse) cuts the events at
``as_of``, joins each to its subscriber's row number and zone code (a small table built in
Python, in ``prepare``'s order) and to the IANA offset table (``segkit.features._local_time``:
the same instants as the numpy path's ``tz_convert``), and returns per send and human open
ONE int64 that packs ``r`` (subscriber row), ``e`` (whole UTC epoch seconds, less the first
second up to ``as_of``), ``k`` (0 send, 1 open) and ``slot`` (local weekday * 24 + hour) so
that it sorts as (``r``, ``e``, ``k``): numpy reads it batch by batch into one array and sorts
it in place (no ORDER BY in the engine; numpy's vectorised sort of int64 is several times
faster). Ids absent from the subscribers table come with a null ``r`` and their id (they are
appended, sorted, as ``prepare`` appends them); when the columns cannot fit one int64 (events
over centuries) they come back unpacked and are lexsorted.

numpy then applies the event path's rules in one linear pass: a send's exposure length is
the whole hours (ceil) to the subscriber's next send or ``as_of``, at most K (of sends in the
same second all but the last get 0); an open is attributed to the send just before it (sends
first within a second, as ``searchsorted(side="right")``) when it is the first open after that
send and its delay is below the send's length. The global (delay, hour) and (send hour, length)
tables of the delay x hour fit and the sparse send design are built as in the event path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segkit.features._local_time import PERIOD_SECONDS, local_slot, offset_table
from segkit.sendtime._exposure import (
    OpenSlots,
    Profiles,
    exposure_profiles,
    profiles_without_sends,
    risk_from_counts,
)
from segkit.sendtime._inputs import EVENT_COLUMNS, USED_TYPES, _base_subscribers
from segkit.sendtime._local_time import SECONDS_PER_HOUR, resolve_zones

__all__: list[str] = []

#: ``k`` of events that only name a subscriber (click, unsubscribe, machine open).
OTHER = 2


@dataclass(frozen=True)
class EngineInputs:
    """What :func:`segkit.sendtime._recommend.fit` needs besides the profiles."""

    subscribers: pd.DataFrame  # subscriber_id, timezone, timezone_fallback, segment
    dominant_zone: str


def usable(backend: object) -> bool:
    """True when ``backend`` is an Ibis backend whose events carry ``machine_open`` (without it
    the flag is computed by the ingest rule on loaded events: ``_inputs.with_machine_flag``)."""
    if not isinstance(backend, ibis.BaseBackend):
        return False
    from ibis.common.exceptions import TableNotFound

    try:
        columns = backend.table("events").columns
    except TableNotFound:  # the loading path raises the message
        return False
    return "machine_open" in columns and all(c in columns for c in EVENT_COLUMNS)


@ibis.udf.scalar.builtin(name="epoch")
def _duckdb_epoch(ts: dt.Timestamp(timezone="UTC")) -> dt.float64:  # type: ignore[empty-body]
    """DuckDB's ``epoch`` of a TIMESTAMPTZ (UTC seconds, fractions kept)."""


def whole_seconds(ts: ir.TimestampValue, backend: ibis.BaseBackend) -> ir.IntegerValue:
    """Floor of the epoch seconds on every engine. Ibis compiles ``epoch_seconds`` on DuckDB as
    ``epoch(CAST(ts AS TIMESTAMP))``, whose cast goes through the calendar (ICU) and costs five
    times the rest of the expression; DuckDB's own ``epoch`` of the TIMESTAMPTZ is the same
    number (ibis runs DuckDB sessions in UTC)."""
    seconds = _duckdb_epoch(ts) if backend.name == "duckdb" else ts.epoch_seconds()
    return seconds.floor().cast("int64")


def _used(backend: ibis.BaseBackend, as_of: pd.Timestamp) -> ir.Table:
    events = backend.table("events")
    return events.filter(
        events.event_type.cast("string").isin(USED_TYPES),
        events.ts <= ibis.literal(as_of, type="timestamp('UTC')"),
        events.subscriber_id.notnull(),
    ).select(
        subscriber_id=events.subscriber_id.cast("string"),
        event_type=events.event_type.cast("string"),
        ts=events.ts,
        machine_open=events.machine_open.cast("boolean").fill_null(False),
    )


def subscriber_table(backend: ibis.BaseBackend, *, zones: bool) -> pa.Table | None:
    """The subscribers table's ``subscriber_id`` as strings (and ``timezone`` when ``zones``),
    None without a table; ids are checked unique as ``_inputs`` checks them (the same
    message). The one reader of the subscribers table for send time and frequency."""
    from ibis.common.exceptions import TableNotFound

    try:
        table = backend.table("subscribers")
    except TableNotFound:
        return None
    columns = {"subscriber_id": table.subscriber_id.cast("string")}
    if zones:
        columns["timezone"] = (table.timezone.cast("string") if "timezone" in table.columns
                               else ibis.null("string"))  # fmt: skip
    result = table.select(**columns).to_pyarrow()
    ids = result.column("subscriber_id")
    if pc.count_distinct(ids, mode="all").as_py() < len(ids):
        _base_subscribers(pd.DataFrame({"subscriber_id": ids.to_pandas()}))  # raises the message
    return result


def _base(backend: ibis.BaseBackend) -> tuple[pd.DataFrame, str]:
    """The subscribers table's rows (``prepare``'s order) with zones filled as ``prepare``
    fills them, and the dominant zone (ids seen only in events have no zone: they never
    change it)."""
    table = subscriber_table(backend, zones=True)
    base = _base_subscribers(None if table is None else table.to_pandas())
    filled, fallback, dominant = resolve_zones(base["timezone"])
    base["timezone"] = filled.array
    base["timezone_fallback"] = fallback.to_numpy()
    return base, dominant


@dataclass(frozen=True)
class _Span:
    """The first whole second of the events up to ``as_of`` and their number, a bound on the
    rows the send-time query returns (one aggregate over the time column alone: cheaper than
    over the used events, and the first second only needs to be at or before theirs)."""

    first: int | None
    count: int

    @classmethod
    def of(cls, backend: ibis.BaseBackend, as_of: pd.Timestamp) -> _Span:
        events = backend.table("events")
        events = events.filter(events.ts <= ibis.literal(as_of, type="timestamp('UTC')"))
        first = whole_seconds(events.ts.min(), backend)
        row = events.aggregate(first=first, count=events.count()).to_pyarrow().to_pylist()[0]
        return cls(None if row["first"] is None else int(row["first"]), int(row["count"]))


#: Key layout of a send or open: row << shift | (seconds - first) << 10 | k << 8 | slot.
SLOT_BITS, KIND_BITS = 8, 2


@dataclass(frozen=True)
class _Layout:
    """How (``r``, ``e``, ``k``, ``slot``) pack into one int64 that sorts as (r, e, k, slot)."""

    first: int  # seconds subtracted from e
    shift: int  # bit position of r

    @classmethod
    def of(cls, span: _Span, as_of_s: int, rows: int) -> _Layout | None:
        if span.first is None:
            return None
        first = span.first - 1  # margin: the engine floors its own epoch
        shift = (as_of_s + 1 - first).bit_length() + SLOT_BITS + KIND_BITS
        return cls(first, shift) if cls.fits(shift, rows) else None

    @staticmethod
    def fits(shift: int, rows: int) -> bool:
        return max(rows - 1, 0).bit_length() + shift <= 63

    def key(self, rows: ir.Table) -> ir.IntegerValue:
        row = rows.r.fill_null(0).cast("int64") * (1 << self.shift)
        return (row + (rows.e - self.first) * (1 << (SLOT_BITS + KIND_BITS))
                + rows.k.cast("int64") * (1 << SLOT_BITS) + rows.slot.cast("int64"))  # fmt: skip

    def unpack(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``r``, ``k``, ``e``, ``slot`` from keys (``key`` becomes ``r``); the slot and the
        kind are read from the low bytes without int64 temporaries."""
        low = key.view(np.uint8).reshape(-1, 8)[:, ::-1 if sys.byteorder == "big" else 1]
        slot = low[:, 0].astype(np.int16)
        k = np.bitwise_and(low[:, 1], (1 << KIND_BITS) - 1).view(np.int8)
        e = key >> (SLOT_BITS + KIND_BITS)
        e &= (1 << (self.shift - SLOT_BITS - KIND_BITS)) - 1
        e += self.first
        key >>= self.shift
        return key, k, e, slot


def _rows(backend: ibis.BaseBackend, used: ir.Table, base: pd.DataFrame, zones: list[str],
          dominant: str, first_year: int, as_of: pd.Timestamp) -> ir.Table:
    """``r``, ``k``, ``e``, ``slot`` per send and human open, in no order; events of ids
    absent from the subscribers table come with a null ``r``, their id in ``sid`` and every
    used type (``k`` 2: click, unsubscribe, machine open) as they make subscribers."""
    zone_code = pc.index_in(pa.array(base["timezone"].array, type=pa.string()), value_set=pa.array(zones))
    rows = ibis.memtable(pa.table({
        "row_id": pa.array(base["subscriber_id"].array, type=pa.string()),
        "r": np.arange(len(base), dtype=np.int32),
        "z": zone_code.cast(pa.int32()),
    }))  # fmt: skip
    offsets = offset_table(zones, first_year, as_of.year)
    offsets["offset_zone"] = pd.Categorical(offsets["offset_zone"], categories=zones).codes.astype(np.int32)
    joined = used.left_join(rows, used.subscriber_id == rows.row_id)
    kind = joined.event_type
    k = ibis.cases((kind == "send", 0), ((kind == "open") & ~joined.machine_open, 1), else_=OTHER)
    events = joined.select(
        r=joined.r, z=joined.z.fill_null(zones.index(dominant)), e=whole_seconds(joined.ts, backend),
        k=k.cast("int8"), sid=ibis.ifelse(joined.r.isnull(), joined.subscriber_id, ibis.null("string")),
    )
    events = events.filter((events.k != OTHER) | events.r.isnull())
    table = ibis.memtable(offsets)
    timed = events.mutate(period=(events.e / PERIOD_SECONDS).floor())
    joined = timed.join(
        table,
        [timed.z == table.offset_zone, timed.period == table.period,
         timed.e >= table.start, timed.e < table.end],
    )  # fmt: skip
    slot = local_slot(joined.e + joined.offset_seconds).cast("int16")
    return joined.select("r", "k", "e", "sid", slot=slot)


#: Rows per record batch fetched from the engine.
BATCH_ROWS = 1 << 20


def record_batches(expr: ir.Table, backend: ibis.BaseBackend) -> Iterable[pa.RecordBatch]:
    """The result of ``expr`` as a stream of Arrow record batches of about
    :data:`BATCH_ROWS` rows. On DuckDB through the relation's own Arrow reader: ibis'
    ``to_pyarrow_batches`` calls ``fetch_record_batch``, which DuckDB 2 no longer has."""
    relation = getattr(backend, "_to_duckdb_relation", None)
    if backend.name == "duckdb" and relation is not None:
        return relation(expr).to_arrow_reader(BATCH_ROWS)
    return expr.to_pyarrow_batches(chunk_size=BATCH_ROWS)


def _fetch_keys(backend: ibis.BaseBackend, rows: ir.Table, layout: _Layout, span: _Span
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The packed keys, read batch by batch into one array (``span.count`` bounds the rows;
    pages past the last row are never touched), and the positions and ids of the rows with
    a null ``r``."""
    key = np.empty(span.count, dtype=np.int64)
    filled, positions, ids = 0, [], []
    for batch in record_batches(rows.select(key=layout.key(rows), sid=rows.sid), backend):
        size = batch.num_rows
        key[filled : filled + size] = batch.column(0).to_numpy(zero_copy_only=False)
        sid = batch.column(1)
        if sid.null_count < size:
            valid = sid.is_valid()
            positions.append(filled + np.flatnonzero(valid.to_numpy(zero_copy_only=False)))
            ids.append(sid.filter(valid).to_numpy(zero_copy_only=False).astype(str))
        filled += size
    if not ids:
        return key[:filled], np.empty(0, dtype=np.int64), np.empty(0, dtype=str)
    return key[:filled], np.concatenate(positions), np.concatenate(ids)


def _keyed_rows(backend: ibis.BaseBackend, rows: ir.Table, layout: _Layout, span: _Span, n_base: int
                ) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """(``r``, ``k``, ``e``, ``slot``) ordered by (``r``, ``e``, ``k``), and the ids only in
    events (rows after the subscribers table's, sorted): one int64 key per row, sorted in
    place (numpy's vectorised sort of int64 is several times faster than an engine's ORDER
    BY or an argsort)."""
    key, positions, ids = _fetch_keys(backend, rows, layout, span)
    extra, code = np.unique(ids, return_inverse=True)
    if len(extra):
        kind = (key[positions] >> SLOT_BITS) & ((1 << KIND_BITS) - 1)
        if not _Layout.fits(layout.shift, n_base + len(extra)):  # no room for their rows
            r, k, e, slot = layout.unpack(key)
            r[positions] = n_base + code.ravel()
            mine = k != OTHER
            return _lexsorted(r[mine], k[mine], e[mine], slot[mine]), extra
        key[positions] += (n_base + code.ravel()).astype(np.int64) << layout.shift
        key = np.delete(key, positions[kind == OTHER])
    key.sort()
    return layout.unpack(key), extra


def _lexsorted(r: np.ndarray, k: np.ndarray, e: np.ndarray, slot: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.lexsort((slot, k, e, r))
    return r[order], k[order], e[order], slot[order]


def _unkeyed_rows(rows: ir.Table, n_base: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """As :func:`_keyed_rows` when the four columns do not fit in one int64 (events spread
    over centuries), with a lexsort."""
    table = rows.to_pyarrow()
    k, e, slot = (table.column(name).to_numpy(zero_copy_only=False) for name in ("k", "e", "slot"))
    r = pc.fill_null(table.column("r"), -1).to_numpy(zero_copy_only=False).astype(np.int64)
    extra = np.empty(0, dtype=str)
    unknown = np.flatnonzero(r < 0)
    if len(unknown):  # ids only in events: rows after the subscribers table's, sorted
        ids = table.column("sid").to_numpy(zero_copy_only=False)[unknown].astype(str)
        extra, code = np.unique(ids, return_inverse=True)
        r[unknown] = n_base + code.ravel()
    mine = k != OTHER
    return _lexsorted(r[mine], k[mine], e[mine], slot[mine]), extra


@contextmanager
def returned_memory(backend: ibis.BaseBackend) -> Iterator[None]:
    """On DuckDB, its allocator's background threads run during the block, so the memory its
    queries free is given back to the system while Python holds the results (without them
    the allocator keeps it: about as much again as the query used, GBs at 100M events); the
    connection's own setting (a boolean, restored exactly) comes back afterwards. Other
    engines are left alone."""
    if backend.name != "duckdb":
        yield
        return
    con = backend.con
    setting = con.execute("SELECT current_setting('allocator_background_threads')").fetchall()[0][0]
    before = str(setting).lower() == "true"
    if not before:
        con.execute("SET allocator_background_threads = true")
    try:
        yield
    finally:
        if not before:
            con.execute("SET allocator_background_threads = false")


def engine_profiles(
    backend: ibis.BaseBackend, as_of: pd.Timestamp, hours: int
) -> tuple[EngineInputs, Profiles]:
    """Subscribers, zones and :class:`Profiles` equal to ``_exposure.profiles(prepare(...))``."""
    with returned_memory(backend):
        return _engine_profiles(backend, as_of, hours)


def _engine_profiles(backend: ibis.BaseBackend, as_of: pd.Timestamp, hours: int
                     ) -> tuple[EngineInputs, Profiles]:
    used = _used(backend, as_of)
    base, dominant = _base(backend)
    zones = sorted({*pd.unique(base["timezone"]), dominant})
    span = _Span.of(backend, as_of)
    first_year = as_of.year if span.first is None else pd.Timestamp(span.first, unit="s").year
    rows = _rows(backend, used, base, zones, dominant, first_year, as_of)
    as_of_s = as_of.value // 10**9
    layout = _Layout.of(span, as_of_s, len(base))
    (r, k, e, slot), extra = (_unkeyed_rows(rows, len(base)) if layout is None
                              else _keyed_rows(backend, rows, layout, span, len(base)))  # fmt: skip
    subs = base
    if len(extra):
        subs = pd.concat([base, pd.DataFrame({
            "subscriber_id": extra, "timezone": dominant, "timezone_fallback": True})],
            ignore_index=True)  # fmt: skip
    subs["segment"] = np.full(len(subs), pd.NA, dtype=object)  # as prepare(): no mapping
    inputs = EngineInputs(subscribers=subs, dominant_zone=dominant)
    return inputs, _profiles(r, k, e, slot, n=len(subs), as_of_s=as_of_s, hours=hours)


def _profiles(r: np.ndarray, k: np.ndarray, e: np.ndarray, slot: np.ndarray, n: int, as_of_s: int,
              hours: int) -> Profiles:
    """:class:`Profiles` from sends (``k`` 0) and human opens (``k`` 1) ordered by (``r``,
    ``e``, ``k``): one linear pass, the rules of ``_exposure._horizon`` and
    ``_attribute``."""
    is_send = k == 0
    sends = np.flatnonzero(is_send)
    send_sub = r[sends]
    n_sends = np.bincount(send_sub, minlength=n)
    n_opens = np.bincount(r[~is_send], minlength=n)
    if len(sends) == 0:
        slot = slot.astype(np.int64)
        return profiles_without_sends(OpenSlots(r, slot % 24, slot // 24), n, n_opens, n_sends, hours)
    # exposure length: whole hours (ceil) to the subscriber's next send or as_of, at most K
    send_e = e[sends]
    length = np.empty(len(sends), dtype=np.int64)
    length[:-1] = send_e[1:]
    length[-1] = as_of_s
    length[:-1][send_sub[1:] != send_sub[:-1]] = as_of_s
    np.minimum(length, as_of_s, out=length)
    length -= send_e
    length += SECONDS_PER_HOUR - 1
    length //= SECONDS_PER_HOUR
    np.clip(length, 0, hours, out=length)
    del send_e
    # an open is attributed to the send just before it (the first open after its latest send)
    # when its delay is below that send's exposure length; later opens of that send never are
    first = np.flatnonzero(is_send[:-1] & ~is_send[1:] & (r[1:] == r[:-1])) + 1
    delay = (e[first] - e[first - 1]) // SECONDS_PER_HOUR
    keep = delay < length[np.searchsorted(sends, first - 1)]
    first, delay = first[keep], delay[keep]
    open_slot = slot[first].astype(np.int64)
    opens = OpenSlots(r[first], open_slot % 24, open_slot // 24)
    send_slot = slot[sends].astype(np.int32)
    del sends, is_send
    by_length = np.bincount((send_slot % 24) * (hours + 1) + length,
                            minlength=24 * (hours + 1)).reshape(24, hours + 1)
    cells = send_slot
    cells *= hours + 1
    np.add(cells, length, out=cells, casting="unsafe")
    return exposure_profiles(opens, delay, send_sub, cells, risk_from_counts(by_length, hours), n,
                             n_opens, n_sends, hours)
