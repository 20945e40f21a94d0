"""The send cells of :mod:`segkit.sendtime._fatigue`, computed in the engine.

:func:`segkit.sendtime.frequency.analyze` on a workspace or an Ibis backend does not load
events: the engine (DuckDB, Spark, a warehouse, through portable Ibis expressions) computes
every send's 7- and 30-day volumes and attributed outcomes and counts the sends per
(subscriber, 7-day volume, 30-day bin, outcomes); only these cells come back, as ONE list of
packed integers per subscriber (so each subscriber id travels once), with its human opens and
sends (for the engagement tier).

One sort serves every window: the sends and the opens (human), clicks and unsubscribes of a
subscriber in the order of ``o = seconds * 4 + kind`` (sends first within a second).

* Volume, as ``_fatigue.volume`` (sends in ``(t - days, t]``, and among sends in the same
  second the k-th counts the k - 1 before it, not those after): ``range count + position -
  count up to t`` where the range count is the sends in ``[t - days + 1 s, t]`` (whole seconds),
  the position the send's 1-based rank among the subscriber's sends (any order within the
  second: they are alike) and the count up to ``t`` includes every send in that second.
* Attribution, as ``_fatigue.attributed``: an event belongs to the latest send at or before it
  (a running maximum of the send time; within a second, the last send, whose position equals
  the count up to t) when fewer than ``attribution_hours`` have passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segkit.errors import ValidationError
from segkit.sendtime._engine import returned_memory, subscriber_table, whole_seconds
from segkit.sendtime._fatigue import (
    MONTHLY_BIN_WIDTH,
    MONTHLY_BINS,
    OUTCOME_BITS,
    VOLUME_BITS,
    SendCells,
    send_cells,
)
from segkit.sendtime._inputs import USED_TYPES
from segkit.sendtime._local_time import SECONDS_PER_DAY, SECONDS_PER_HOUR

__all__: list[str] = []

#: A cell travels as ((volume_7d * 8 + 30-day bin) * 8 + outcome bits) * 2**COUNT_BITS + sends.
COUNT_BITS = 63 - VOLUME_BITS - 6
KIND = {"send": 0, "open": 1, "click": 2, "unsubscribe": 3}


@dataclass(frozen=True)
class FrequencyInputs:
    """Per subscriber row (the order of ``_inputs.prepare``): id, human opens, sends, segment;
    and the send cells."""

    subscriber_id: np.ndarray
    n_opens: np.ndarray
    n_sends: np.ndarray
    segment: np.ndarray
    cells: SendCells


def _events(backend: ibis.BaseBackend, as_of: pd.Timestamp) -> ir.Table:
    """Sends, human opens, clicks and unsubscribes up to ``as_of``: ``sub``, ``kind``, ``e``."""
    events = backend.table("events")
    kind = events.event_type.cast("string")
    used = events.filter(
        kind.isin(USED_TYPES),
        events.ts <= ibis.literal(as_of, type="timestamp('UTC')"),
        events.subscriber_id.notnull(),
        (kind != "open") | ~events.machine_open.cast("boolean").fill_null(False),
    )
    code = used.event_type.cast("string").cases(*KIND.items(), else_=None).cast("int8")
    return used.select(sub=used.subscriber_id.cast("string"), kind=code,
                       e=whole_seconds(used.ts, backend))


def _cells(events: ir.Table, hours: int) -> ir.Table:
    """Sends per (``sub``, ``v7``, ``bin``, ``outcome``): ``n``; and ``opens``, the subscriber's
    human opens (an aggregate over the whole partition of the same window)."""
    is_send = (events.kind == 0).cast("int64")
    timed = events.mutate(o=events.e * 4 + events.kind, s=is_send,
                          send_e=ibis.ifelse(events.kind == 0, events.e, ibis.null("int64")))
    rows = ibis.window(group_by="sub", order_by="o", preceding=None, following=0)
    upto = ibis.window(group_by="sub", order_by="o", range=(None, 0))
    whole = ibis.window(group_by="sub", order_by="o", rows=(None, None))
    within = lambda days: timed.s.sum().over(  # noqa: E731  sends in [t - days + 1 s, t]
        ibis.window(group_by="sub", order_by="o", range=(-4 * (days * SECONDS_PER_DAY - 1), 0)))
    marked = timed.mutate(position=timed.s.sum().over(rows), upto=timed.s.sum().over(upto),
                          w7=within(7), w30=within(30), last=timed.send_e.max().over(rows),
                          opens=(timed.kind == 1).cast("int64").sum().over(whole))
    sends = marked.filter(marked.kind == 0)
    sends = sends.select(
        "sub", "e", "opens", last=sends.position == sends.upto,
        v7=sends.w7 - sends.upto + sends.position,
        bin=ibis.least(((sends.w30 - sends.upto + sends.position - 1) / MONTHLY_BIN_WIDTH).floor(),
                       MONTHLY_BINS - 1).cast("int64"),
    )  # fmt: skip
    hits = marked.filter(marked.kind > 0, marked.last.notnull(),
                         marked.e - marked.last < hours * SECONDS_PER_HOUR)
    bit = lambda name: ibis.ifelse(hits.kind == KIND[name], OUTCOME_BITS[name], 0).max()  # noqa: E731
    outcomes = hits.group_by(hit_sub=hits.sub, hit_e=hits.last).aggregate(
        bits=bit("open") + bit("click") + bit("unsubscribe"))
    joined = sends.left_join(outcomes, [sends.sub == outcomes.hit_sub, sends.e == outcomes.hit_e])
    outcome = ibis.ifelse(joined["last"], joined.bits.fill_null(0), 0).cast("int64")
    return joined.group_by("sub", "v7", "bin", outcome=outcome).aggregate(
        n=joined.count(), opens=joined.opens.max())


def engine_inputs(backend: ibis.BaseBackend, as_of: pd.Timestamp, hours: int) -> FrequencyInputs:
    """What ``frequency.analyze`` needs, equal to what it derives from ``_inputs.prepare``
    (rows: the subscribers with sends, in ``prepare``'s order)."""
    with returned_memory(backend):
        return _engine_inputs(backend, as_of, hours)


def _engine_inputs(backend: ibis.BaseBackend, as_of: pd.Timestamp, hours: int) -> FrequencyInputs:
    events = _events(backend, as_of)
    cells = _cells(events, hours)
    packed = (((cells.v7 * 8 + cells.bin) * 8 + cells.outcome) * (1 << COUNT_BITS) + cells.n)
    table = cells.group_by("sub").aggregate(cells=packed.collect(), n_opens=cells.opens.max()).to_pyarrow()
    ids = table.column("sub").combine_chunks()
    subscribers = subscriber_table(backend, zones=False)
    base = (pa.array([], type=pa.string()) if subscribers is None
            else subscribers.column("subscriber_id").combine_chunks())  # fmt: skip
    position = pc.fill_null(pc.index_in(ids, value_set=base.cast(ids.type)), -1).to_numpy(zero_copy_only=False)
    position = position.astype(np.int64)
    extra = np.flatnonzero(position < 0)  # ids only in events: after the table's, sorted
    by_id = pc.sort_indices(ids.take(pa.array(extra))).to_numpy()
    position[extra[by_id]] = len(base) + np.arange(len(extra))
    order = np.argsort(position, kind="stable")
    row = np.empty(len(order), dtype=np.int64)
    row[order] = np.arange(len(order))
    column = table.column("cells")
    per_row = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
    values = np.asarray(pc.list_flatten(column).to_numpy(zero_copy_only=False), dtype=np.int64)
    owner = np.repeat(row, per_row)
    key, n = values >> COUNT_BITS, values & ((1 << COUNT_BITS) - 1)
    del values, column
    n_sends = np.bincount(owner, weights=n, minlength=len(row)).astype(np.int64)
    if len(n_sends) and int(n_sends.max()) >= 1 << VOLUME_BITS:
        raise ValidationError(f"a subscriber has {int(n_sends.max()):,} sends; frequency supports "
                              f"fewer than {1 << VOLUME_BITS:,}")
    subscriber_id = ids.take(pa.array(order)).to_numpy(zero_copy_only=False)
    n_opens = table.column("n_opens").to_numpy().astype(np.int64)[order]
    del table, ids  # the lists are in numpy now
    volume_7d, bin_30d, outcomes = key >> 6, (key >> 3) & 7, key & 7
    del key
    return FrequencyInputs(
        subscriber_id=subscriber_id, n_opens=n_opens, n_sends=n_sends,
        segment=np.full(len(order), "all", dtype=object),
        cells=send_cells(owner, volume_7d, bin_30d, outcomes, n),
    )
