"""The exposure profiles of :mod:`segkit.sendtime._exposure`, aggregated in the engine.

:func:`segkit.sendtime.recommend` on a workspace or an Ibis backend does not load events: the
engine (DuckDB, Spark, a warehouse, through portable Ibis expressions) computes what the numpy
path of ``_exposure.profiles`` derives from event arrays, and only this comes back to Python:

* per subscriber: human opens and sends up to ``as_of`` (two counts); ONE list of its
  attributed opens, each packed as ``local slot * 1024 + delay hours`` (slot = weekday * 24 +
  hour); ONE list of its sends' cells ``(local weekday * 24 + hour) * (K + 1) + exposure
  length`` — lists as in ``features.local_opens``, so each subscriber id travels once;
* from these, numpy builds the same arrays as the event path: opens by local hour and weekday,
  the global (delay, hour) and (send hour, length) tables of the delay x hour fit, and the
  sparse design whose product with the fitted kernels gives the expected opens.

Local time uses the IANA offset table joined in SQL (``segkit.features._local_time``), the
same instants as the numpy path's ``tz_convert``. Attribution (latest send at or before each
open, first open per send within the send's exposure length) is a window over the union of
sends and opens per subscriber: the latest send's time and exposure length are packed in one
integer (seconds * 1024 + length) whose running maximum is the latest send (among sends in the
same second the last one, the only one with a non-zero length, as in the numpy path).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segkit.features._local_time import (
    EPOCH_WEEKDAY,
    PERIOD_SECONDS,
    offset_table,
)
from segkit.sendtime._exposure import (
    OpenSlots,
    Profiles,
    exposure_profiles,
    profiles_without_sends,
    risk_from_counts,
)
from segkit.sendtime._inputs import EVENT_COLUMNS, USED_TYPES
from segkit.sendtime._local_time import SECONDS_PER_DAY, SECONDS_PER_HOUR, resolve_zones

__all__: list[str] = []

#: Exposure lengths are at most 336 hours; a send is packed as seconds * PACK + length.
PACK = 1024


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


def _whole_seconds(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Floor of the epoch seconds on every engine (DuckDB's epoch keeps fractions)."""
    return ts.truncate("s").epoch_seconds().cast("int64")


def _rows(
    backend: ibis.BaseBackend, as_of: pd.Timestamp
) -> tuple[ir.Table, pd.DataFrame, str, pa.Table, object]:
    """Used events (with each subscriber's zone) up to ``as_of``, the subscriber rows in
    ``prepare``'s order (the subscribers table, then ids seen only in events, sorted; zones
    filled as ``prepare`` does), the per-subscriber tallies and the first event time.

    One scan of the events gives the tallies (``n_opens`` human opens, ``n_sends``), which also
    name every subscriber with a used event, and the first time (for the offset table).
    """
    from segkit.sendtime._inputs import _base_subscribers

    events = backend.table("events")
    used = events.filter(
        events.event_type.cast("string").isin(USED_TYPES),
        events.ts <= ibis.literal(as_of, type="timestamp('UTC')"),
        events.subscriber_id.notnull(),
    ).select(
        subscriber_id=events.subscriber_id.cast("string"),
        event_type=events.event_type.cast("string"),
        ts=events.ts,
        machine_open=events.machine_open.cast("boolean").fill_null(False),
    )
    kind = used.event_type
    tallies = used.group_by("subscriber_id").aggregate(
        n_opens=used.count(where=(kind == "open") & ~used.machine_open),
        n_sends=used.count(where=kind == "send"),
        first=used.ts.min(),
    ).to_pyarrow()
    first = pc.min(tallies.column("first")).as_py()
    zones = _subscriber_zones(backend)
    base = _base_subscribers(None if zones is None else zones.to_pyarrow().to_pandas())
    seen = tallies.column("subscriber_id").to_pandas().astype("str")
    only_events = seen[pd.Index(base["subscriber_id"]).get_indexer(seen) < 0]
    extra = pd.DataFrame({"subscriber_id": np.sort(only_events.to_numpy()),
                          "timezone": pd.Series(None, index=range(len(only_events)),
                                                dtype="string")})  # fmt: skip
    subs = pd.concat([base, extra], ignore_index=True)
    filled, fallback, dominant = resolve_zones(subs["timezone"])
    subs["timezone"] = filled.to_numpy()
    subs["timezone_fallback"] = fallback.to_numpy()
    # The zone of every event's subscriber, filled in SQL the way resolve_zones fills it.
    if zones is None:
        zoned = used.mutate(zone=ibis.literal(dominant))
    else:
        named = zones.select(zone_owner=zones.subscriber_id, zone_raw=zones.timezone.strip())
        joined = used.left_join(named, used.subscriber_id == named.zone_owner)
        raw = joined.zone_raw.nullif("")
        zoned = joined.select(*used.columns, zone=raw.fill_null(dominant))
    return zoned, subs, dominant, tallies.rename_columns(["sub", "n_opens", "n_sends", "first"]), first


def _local(events: ir.Table, offsets: pd.DataFrame) -> ir.Table:
    """``sub``, ``e`` (whole UTC epoch seconds) and ``l`` (local wall seconds) per event."""
    table = ibis.memtable(offsets)
    timed = events.mutate(e=_whole_seconds(events.ts))
    timed = timed.mutate(period=(timed.e / PERIOD_SECONDS).floor())
    joined = timed.join(
        table,
        [timed.zone == table.offset_zone, timed.period == table.period,
         timed.e >= table.start, timed.e < table.end],
    )  # fmt: skip
    return joined.select(sub=joined.subscriber_id, e=joined.e, l=joined.e + joined.offset_seconds)


def _hour(local: ir.IntegerValue) -> ir.IntegerValue:
    return ((local % SECONDS_PER_DAY) / SECONDS_PER_HOUR).floor().cast("int64")


def _weekday(local: ir.IntegerValue) -> ir.IntegerValue:
    return (((local / SECONDS_PER_DAY).floor() + EPOCH_WEEKDAY) % 7).cast("int64")


def _sends_with_length(sends: ir.Table, as_of_s: int, hours: int) -> ir.Table:
    """Each send's exposure length: whole hours (ceil) to the next send or ``as_of``, <= K."""
    window = ibis.window(group_by="sub", order_by="e")
    nxt = sends.e.lead().over(window)
    end = ibis.least(nxt.fill_null(as_of_s), as_of_s)
    span = ((end - sends.e) / SECONDS_PER_HOUR).ceil()
    length = ibis.greatest(ibis.least(span, hours), 0).cast("int64")
    return sends.mutate(length=length)


def _attributed(sends: ir.Table, opens: ir.Table) -> ir.Table:
    """First human open per send within its exposure: ``sub``, ``delay`` (whole hours), ``l``."""
    both = sends.select("sub", "e", "l", kind=ibis.literal(0, "int8"),
                        key=sends.e * PACK + sends.length).union(
        opens.select("sub", "e", "l", kind=ibis.literal(1, "int8"),
                     key=ibis.null("int64"))
    )  # fmt: skip
    window = ibis.window(group_by="sub", order_by=["e", "kind"], preceding=None, following=0)
    marked = both.mutate(last=both.key.max().over(window))
    hits = marked.filter(marked.kind == 1, marked.last.notnull())
    hits = hits.mutate(send_e=(hits.last / PACK).floor().cast("int64"), length=hits.last % PACK)
    hits = hits.mutate(delay=((hits.e - hits.send_e) / SECONDS_PER_HOUR).floor().cast("int64"))
    valid = hits.filter(hits.delay < hits.length)
    # Delay grows with the open's time, so the first valid open is the earliest one.
    first = valid.group_by(["sub", "last"]).aggregate(
        e=valid.e.min(), l=valid.l.argmin(valid.e), send_e=valid.send_e.min()
    )
    delay = ((first.e - first.send_e) / SECONDS_PER_HOUR).floor().cast("int64")
    return first.select("sub", "l", delay=delay)


def _positions(ids, index: pd.Index) -> np.ndarray:
    values = ids.to_pandas() if hasattr(ids, "to_pandas") else ids
    return index.get_indexer(pd.Index(values.astype("str")))


def _counts(table, index: pd.Index, n: int) -> dict[str, np.ndarray]:
    rows = _positions(table.column("sub"), index)
    out = {}
    for name in ("n_opens", "n_sends"):
        out[name] = np.zeros(n, dtype=np.int64)
        out[name][rows] = table.column(name).to_numpy()
    return out


def engine_profiles(
    backend: ibis.BaseBackend, as_of: pd.Timestamp, hours: int
) -> tuple[EngineInputs, Profiles]:
    """Subscribers, zones and :class:`Profiles` equal to ``_exposure.profiles(prepare(...))``."""
    zoned, subs, dominant, tallies, first = _rows(backend, as_of)
    as_of_s = as_of.value // 10**9
    index = pd.Index(subs["subscriber_id"].astype("str"))
    n = len(index)
    counts = _counts(tallies, index, n)
    subs["segment"] = pd.Series(pd.NA, index=subs.index, dtype="string").to_numpy()
    inputs = EngineInputs(subscribers=subs, dominant_zone=dominant)
    first_year = as_of.year if first is None else pd.Timestamp(first).year
    zones = sorted(set(subs["timezone"]) | {dominant})
    offsets = offset_table(zones, first_year, as_of.year)
    z_kind = zoned.event_type
    opens = _local(zoned.filter((z_kind == "open") & ~zoned.machine_open), offsets)
    sends = _local(zoned.filter(z_kind == "send"), offsets)
    if counts["n_sends"].sum() == 0:
        return inputs, _without_sends(opens, index, n, counts, hours)
    sends = _sends_with_length(sends, as_of_s, hours)
    # Per subscriber, ONE list of its attributed opens (slot * PACK + delay) ...
    hits = _attributed(sends, opens)
    code = (_weekday(hits.l) * 24 + _hour(hits.l)) * PACK + hits.delay
    owners, codes = _lists(hits.group_by("sub").aggregate(codes=code.collect()), index)
    slot = codes // PACK
    opens = OpenSlots(owners, slot % 24, slot // 24)
    # ... and one of its sends' cells (local send weekday, hour, exposure length), as the numpy
    # path's design matrix: the expected opens need the fitted delay curve first.
    cell = (_weekday(sends.l) * 24 + _hour(sends.l)) * (hours + 1) + sends.length
    send_owners, cells = _lists(sends.group_by("sub").aggregate(cells=cell.collect()), index)
    # cell % (24 * (hours + 1)) = hour * (hours + 1) + length: the weekday drops out
    by_length = np.bincount(cells % (24 * (hours + 1)), minlength=24 * (hours + 1)).reshape(24, hours + 1)
    return inputs, exposure_profiles(opens, codes % PACK, send_owners, cells,
                                     risk_from_counts(by_length, hours), n, counts["n_opens"],
                                     counts["n_sends"], hours)


def _lists(expr: ir.Table, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Row positions and flattened values of a (``sub``, list) result."""
    table = expr.to_pyarrow()
    rows = _positions(table.column("sub"), index)
    column = table.column(table.column_names[1])
    per_row = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
    values = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.repeat(rows, per_row), values


def _without_sends(opens, index, n, counts, hours) -> Profiles:
    """No send events: raw open-hour counts (``_exposure._without_sends``)."""
    slot = _weekday(opens.l) * 24 + _hour(opens.l)
    owners, slots = _lists(opens.group_by("sub").aggregate(slots=slot.collect()), index)
    return profiles_without_sends(OpenSlots(owners, slots % 24, slots // 24), n,
                                  counts["n_opens"], counts["n_sends"], hours)
