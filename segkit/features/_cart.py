"""Cart abandonment: a cart add with no purchase by the same subscriber within N hours."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from segkit.features._windows import bucket

__all__ = ["cart_abandonments"]


def cart_abandonments(
    events: ir.Table, as_of: pd.Timestamp, windows: tuple[int, ...], hours: float
) -> ir.Table:
    """Long table of abandoned cart adds per (subscriber, window bucket), see ``_windows``.

    A cart add at time t is abandoned when no purchase by the same subscriber falls in
    ``[t, t + hours]``. Only adds whose deadline ``t + hours`` is at or before ``as_of`` are judged
    (a younger add might still convert, and deciding it would need events after ``as_of``); the
    add's own time decides its window. ``events`` must already be cut at ``as_of``.
    """
    span = pd.Timedelta(hours=hours)
    adds = events.filter(
        events.event_type == "cart_add",
        events.ts <= ibis.literal(as_of - span, type="timestamp('UTC')"),
    ).select("subscriber_id", "ts")
    purchases = events.filter(events.event_type == "purchase").select(
        buyer_id=events.subscriber_id, purchase_ts=events.ts
    )
    window = ibis.interval(seconds=int(span.total_seconds()))
    abandoned = adds.anti_join(
        purchases,
        [
            adds.subscriber_id == purchases.buyer_id,
            purchases.purchase_ts >= adds.ts,
            purchases.purchase_ts <= adds.ts + window,
        ],
    )
    keyed = abandoned.mutate(bucket=bucket(abandoned.ts, as_of, windows))
    return keyed.group_by(["subscriber_id", "bucket"]).aggregate(n=keyed.count())
