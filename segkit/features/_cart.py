"""Cart abandonment: a cart add with no purchase by the same subscriber within N hours."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from segkit.features._windows import bucket

__all__ = ["abandoned_adds", "cart_abandonments"]


def abandoned_adds(events: ir.Table, hours: float, *, judged_by: pd.Timestamp | None = None) -> ir.Table:
    """The abandoned cart adds (``subscriber_id``, ``ts``): no purchase by the same subscriber in
    ``[ts, ts + hours]``. With ``judged_by``, only adds whose deadline is at or before it."""
    span = pd.Timedelta(hours=hours)
    keep = [events.event_type == "cart_add"]
    if judged_by is not None:
        # timestamps are stored to the microsecond: cut the deadline there (an hour fraction such
        # as 1/7 has nanoseconds, which ibis would drop with a warning)
        keep.append(events.ts <= ibis.literal((judged_by - span).floor("us"), type="timestamp('UTC')"))
    adds = events.filter(*keep).select("subscriber_id", "ts")
    purchases = events.filter(events.event_type == "purchase").select(
        buyer_id=events.subscriber_id, purchase_ts=events.ts
    )
    window = ibis.interval(seconds=int(span.total_seconds()))
    return adds.anti_join(
        purchases,
        [
            adds.subscriber_id == purchases.buyer_id,
            purchases.purchase_ts >= adds.ts,
            purchases.purchase_ts <= adds.ts + window,
        ],
    )


def cart_abandonments(
    events: ir.Table, as_of: pd.Timestamp, windows: tuple[int, ...], hours: float
) -> ir.Table:
    """Long table of abandoned cart adds per (subscriber, window bucket), see ``_windows``.

    A cart add at time t is abandoned when no purchase by the same subscriber falls in
    ``[t, t + hours]``. Only adds whose deadline ``t + hours`` is at or before ``as_of`` are judged
    (a younger add might still convert, and deciding it would need events after ``as_of``); the
    add's own time decides its window. ``events`` must already be cut at ``as_of``.
    """
    abandoned = abandoned_adds(events, hours, judged_by=as_of)
    keyed = abandoned.mutate(bucket=bucket(abandoned.ts, as_of, windows))
    return keyed.group_by(["subscriber_id", "bucket"]).aggregate(n=keyed.count())
