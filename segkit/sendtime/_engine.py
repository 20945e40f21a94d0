"""The exposure profiles of :mod:`segkit.sendtime._exposure`, with the events read in the engine.

:func:`segkit.sendtime.recommend` on a workspace or an Ibis backend does not load event rows
with strings: one portable Ibis query (DuckDB, Spark, a warehouse) cuts the events at
``as_of``, joins each to its subscriber's row number and zone code (a small table built in
Python, in ``prepare``'s order) and to the IANA offset table (``segkit.features._local_time``:
the same instants as the numpy path's ``tz_convert``), and returns per send and human open
four small integers: ``r`` (subscriber row), ``k`` (0 send, 1 open), ``e`` (whole UTC epoch
seconds) and ``slot`` (local weekday * 24 + hour). Ids absent from the subscribers table come
with a null ``r`` and their id (they are appended, sorted, as ``prepare`` appends them).

numpy then orders the rows by (``r``, ``e``, ``k``) with one packed int64 key (no ORDER BY in
the engine) and applies the event path's rules in one linear pass: a send's exposure length is
the whole hours (ceil) to the subscriber's next send or ``as_of``, at most K (of sends in the
same second all but the last get 0); an open is attributed to the send just before it (sends
first within a second, as ``searchsorted(side="right")``) when it is the first open after that
send and its delay is below the send's length. The global (delay, hour) and (send hour, length)
tables of the delay x hour fit and the sparse send design are built as in the event path.
"""

from __future__ import annotations

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


def _subscriber_zones(backend: ibis.BaseBackend) -> ir.Table | None:
    from ibis.common.exceptions import TableNotFound

    try:
        table = backend.table("subscribers")
    except TableNotFound:
        return None
    zone = table.timezone.cast("string") if "timezone" in table.columns else ibis.null("string")
    return table.select(subscriber_id=table.subscriber_id.cast("string"), timezone=zone)


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


def _base(backend: ibis.BaseBackend) -> tuple[pd.DataFrame, str]:
    """The subscribers table's rows (``prepare``'s order) with zones filled as ``prepare``
    fills them, and the dominant zone (ids seen only in events have no zone: they never
    change it)."""
    zones = _subscriber_zones(backend)
    base = _base_subscribers(None if zones is None else zones.to_pyarrow().to_pandas())
    filled, fallback, dominant = resolve_zones(base["timezone"])
    base["timezone"] = filled.array
    base["timezone_fallback"] = fallback.to_numpy()
    return base, dominant


def _rows(backend: ibis.BaseBackend, used: ir.Table, base: pd.DataFrame, zones: list[str],
          dominant: str, as_of: pd.Timestamp) -> ir.Table:
    """``r``, ``k``, ``e``, ``slot`` per send and human open, in no order (``_in_order`` sorts
    them); events of ids absent from the subscribers table come with a null ``r``, their id in ``sid``
    and every used type (``k`` 2: click, unsubscribe, machine open) as they make subscribers."""
    zone_code = pd.Categorical(base["timezone"], categories=zones).codes.astype(np.int32)
    rows = ibis.memtable(pa.table({
        "row_id": pa.array(base["subscriber_id"].array, type=pa.string()),
        "r": np.arange(len(base), dtype=np.int32),
        "z": zone_code,
    }))  # fmt: skip
    first = used.ts.min().to_pyarrow().as_py()
    first_year = as_of.year if first is None else pd.Timestamp(first).year
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


def engine_profiles(
    backend: ibis.BaseBackend, as_of: pd.Timestamp, hours: int
) -> tuple[EngineInputs, Profiles]:
    """Subscribers, zones and :class:`Profiles` equal to ``_exposure.profiles(prepare(...))``."""
    used = _used(backend, as_of)
    base, dominant = _base(backend)
    zones = sorted({*pd.unique(base["timezone"]), dominant})
    table = _rows(backend, used, base, zones, dominant, as_of).to_pyarrow()
    k, e, slot = (table.column(name).to_numpy(zero_copy_only=False) for name in ("k", "e", "slot"))
    rows = table.column("r")
    extra = np.empty(0, dtype=object)
    if rows.null_count:  # ids only in events: rows after the subscribers table's, sorted
        known = rows.is_valid().to_numpy(zero_copy_only=False)
        ids = table.column("sid").to_numpy(zero_copy_only=False)[~known].astype(str)
        extra, code = np.unique(ids, return_inverse=True)
        r = pc.fill_null(rows, -1).to_numpy(zero_copy_only=False).copy()
        r[~known] = len(base) + code
        mine = k != OTHER
        r, k, e, slot = r[mine], k[mine], e[mine], slot[mine]
    else:
        r = rows.to_numpy(zero_copy_only=False)
    del table, rows
    subs = base
    if len(extra):
        subs = pd.concat([base, pd.DataFrame({
            "subscriber_id": extra, "timezone": dominant, "timezone_fallback": True})],
            ignore_index=True)  # fmt: skip
    subs["segment"] = np.full(len(subs), pd.NA, dtype=object)  # as prepare(): no mapping
    inputs = EngineInputs(subscribers=subs, dominant_zone=dominant)
    return inputs, _profiles(r, k, e, slot, n=len(subs), as_of_s=as_of.value // 10**9, hours=hours)


def _in_order(r: np.ndarray, k: np.ndarray, e: np.ndarray, slot: np.ndarray, n: int) -> tuple:
    """The rows ordered by (``r``, ``e``, ``k``): one int64 key packs the four columns (the
    slot, 0-167, in the low byte) when they fit, sorted in place (numpy's vectorised sort of
    int64 is several times faster than an engine's ORDER BY or an argsort); else a lexsort."""
    if len(r) == 0:
        return r, k, e, slot
    e0 = int(e.min())
    bits_e = int(e.max() - e0).bit_length()
    bits_r = max(int(n).bit_length(), 1)
    if bits_r + bits_e + 9 > 63:
        order = np.lexsort((k, e, r))
        return r[order], k[order], e[order], slot[order]
    key = r.astype(np.int64) << (bits_e + 9)
    relative = e - e0
    relative <<= 9
    key |= relative
    del relative
    key |= (k.astype(np.int16) << 8) | slot.astype(np.int16)
    key.sort()
    slot = (key & 255).astype(np.int16)
    k = ((key >> 8) & 1).astype(np.int8)
    e = (key >> 9) & ((1 << bits_e) - 1)
    e += e0
    key >>= bits_e + 9
    return key.astype(np.int32 if n < 2**31 else np.int64), k, e, slot


def _profiles(r: np.ndarray, k: np.ndarray, e: np.ndarray, slot: np.ndarray, n: int, as_of_s: int,
              hours: int) -> Profiles:
    """:class:`Profiles` from sends (``k`` 0) and human opens (``k`` 1): ordered by (``r``,
    ``e``, ``k``), then one linear pass, the rules of ``_exposure._horizon`` and
    ``_attribute``."""
    r, k, e, slot = _in_order(r, k, e, slot, n)
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
