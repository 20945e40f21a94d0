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
import pyarrow.compute as pc
import scipy.sparse as sp

from segkit.features._local_time import (
    EPOCH_WEEKDAY,
    PERIOD_SECONDS,
    offset_table,
)
from segkit.sendtime._exposure import Profiles, _cached_kernels, fit_delay_hour, risk_from_counts
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
) -> tuple[ir.Table, pd.DataFrame, str, ir.Table]:
    """Used events up to ``as_of`` and the subscriber rows in ``prepare``'s order: the
    subscribers table, then ids seen only in events (sorted); zones filled as ``prepare`` does."""
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
    zones = _subscriber_zones(backend)
    if zones is None:
        base = pd.DataFrame({"subscriber_id": pd.Series([], dtype="str"),
                             "timezone": pd.Series([], dtype="string")})  # fmt: skip
        extra_ids = used.select("subscriber_id").distinct()
    else:
        base = zones.to_pyarrow().to_pandas()
        extra_ids = used.select("subscriber_id").distinct().anti_join(zones, "subscriber_id")
    from segkit.sendtime._inputs import _base_subscribers

    base = _base_subscribers(base)
    extra = extra_ids.to_pyarrow().column("subscriber_id").to_pandas()
    extra = pd.DataFrame({"subscriber_id": np.sort(extra.astype("str").to_numpy()),
                          "timezone": pd.Series(None, index=range(len(extra)), dtype="string")})  # fmt: skip
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
    return zoned, subs, dominant, used


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
    zoned, subs, dominant, used = _rows(backend, as_of)
    as_of_s = as_of.value // 10**9
    index = pd.Index(subs["subscriber_id"].astype("str"))
    n = len(index)
    kind = used.event_type
    human = (kind == "open") & ~used.machine_open
    tallies = used.group_by("subscriber_id").aggregate(
        n_opens=used.count(where=human), n_sends=used.count(where=kind == "send")
    ).rename(sub="subscriber_id")
    counts = _counts(tallies.to_pyarrow(), index, n)
    subs["segment"] = pd.Series(pd.NA, index=subs.index, dtype="string").to_numpy()
    inputs = EngineInputs(subscribers=subs, dominant_zone=dominant)
    first = used.aggregate(first=used.ts.min()).to_pyarrow().column("first")[0].as_py()
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
    slot, delay = codes // PACK, codes % PACK
    opens_hour = np.bincount(owners * 24 + slot % 24, minlength=n * 24).reshape(n, 24)
    opens_day = np.bincount(owners * 7 + slot // 24, minlength=n * 7).reshape(n, 7)
    observed = np.bincount(delay * 24 + slot % 24, minlength=hours * 24).reshape(hours, 24)
    # ... and one of its sends' cells (local send weekday, hour, exposure length), as the numpy
    # path's design matrix: the expected opens need the fitted delay curve first.
    cell = (_weekday(sends.l) * 24 + _hour(sends.l)) * (hours + 1) + sends.length
    send_owners, cells = _lists(sends.group_by("sub").aggregate(cells=cell.collect()), index)
    by_length = np.bincount((cells // (hours + 1)) % 24 * (hours + 1) + cells % (hours + 1),
                            minlength=24 * (hours + 1)).reshape(24, hours + 1)  # fmt: skip
    a, b = fit_delay_hour(observed.astype(float), risk_from_counts(by_length, hours))
    to_hour, to_day = _cached_kernels(a, hours)
    design = sp.csr_matrix(
        (np.ones(len(cells), dtype=np.float32), (send_owners, cells)),
        shape=(n, 7 * 24 * (hours + 1)),
    )
    return inputs, Profiles(
        opens_hour=opens_hour.astype(float), expected_hour=np.asarray(design @ to_hour),
        opens_weekday=opens_day.astype(float), expected_weekday=np.asarray(design @ to_day),
        n_opens=counts["n_opens"], n_sends=counts["n_sends"],
        delay_curve=a, global_hour=b,
        method=f"exposure-adjusted open rate (Poisson delay x hour model, {hours} h window)",
    )  # fmt: skip


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
    opens_hour = np.bincount(owners * 24 + slots % 24, minlength=n * 24).reshape(n, 24)
    opens_day = np.bincount(owners * 7 + slots // 24, minlength=n * 7).reshape(n, 7)
    total = opens_hour.sum(axis=0).astype(float)
    b = total / total.mean() if total.sum() > 0 else np.ones(24)
    n_opens = counts["n_opens"]
    return Profiles(
        opens_hour=opens_hour.astype(float),
        expected_hour=np.repeat(n_opens[:, None] / 24.0, 24, axis=1),
        opens_weekday=opens_day.astype(float),
        expected_weekday=np.repeat(n_opens[:, None] / 7.0, 7, axis=1),
        n_opens=n_opens, n_sends=counts["n_sends"],
        delay_curve=np.full(hours, 1.0 / hours), global_hour=b,
        method="raw open-hour counts (no send events: exposure correction not possible)",
    )  # fmt: skip
