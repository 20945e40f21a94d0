"""BG/NBD-style RFM summary: frequency, recency, T and monetary value per customer.

The definitions are those of Fader, Hardie & Lee (2005), "Counting your customers the easy way:
An alternative to the Pareto/NBD model", Marketing Science 24(2), section 2, as implemented by
lifetimes' ``summary_data_from_transaction_data(..., freq='D')``:

* purchases are grouped into UTC calendar days (several purchases on one day are one purchase
  occasion, their values summed);
* ``frequency`` = number of purchase days - 1 (the repeat purchases);
* ``recency`` = last purchase day - first purchase day;
* ``T`` = day of ``as_of`` - first purchase day;
* ``monetary_value`` = mean value of the repeat purchase days (the first day excluded), and 0 when
  there is no repeat purchase, as in lifetimes (Gamma-Gamma fits use ``frequency > 0`` only).
  Refunds (``refund`` events, negative values) are netted: those after the first purchase day
  reduce the repeat value, those on the first day undo first-day purchases (excluded anyway);
  a refund never adds or removes a purchase occasion, and a repeat value netted below zero
  counts as 0 (an order fully cancelled on a later day leaves that day at value 0).

``recency`` and ``T`` are divided by the unit length (1 for ``"D"``, 7 for ``"W"``), which equals
lifetimes with ``freq='D', freq_multiplier=7`` for weeks: purchase occasions stay days.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.features._fetch import fetch
from segkit.features._params import SECONDS_PER_DAY, check_unit, unit_days
from segkit.features._source import RFM_EVENT_COLUMNS, Source, resolve

__all__ = ["RFM_COLUMNS", "rfm", "rfm_expr", "utc_day"]

RFM_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def utc_day(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole days since 1970-01-01 of a UTC timestamp (portable: epoch seconds arithmetic)."""
    return (ts.epoch_seconds() / SECONDS_PER_DAY).floor()


def rfm_expr(
    events: ir.Table,
    as_of: pd.Timestamp,
    *,
    unit: str = "D",
    start: pd.Timestamp | None = None,
) -> ir.Table:
    """RFM per customer with at least one purchase in ``[start, as_of]`` (an Ibis expression)."""
    length = unit_days(unit)
    as_of_day = int(as_of.timestamp() // SECONDS_PER_DAY)
    keep = [events.ts <= ibis.literal(as_of, type="timestamp('UTC')")]
    if start is not None:
        keep.append(events.ts >= ibis.literal(start, type="timestamp('UTC')"))
    purchases = events.filter(events.event_type == "purchase", *keep)
    days = (
        purchases.mutate(day=utc_day(purchases.ts))
        .group_by(["subscriber_id", "day"])
        .aggregate(day_value=purchases.value.sum().fill_null(0.0))
    )
    per_customer = days.group_by("subscriber_id").aggregate(
        n_days=days.day.count(),
        first_day=days.day.min(),
        last_day=days.day.max(),
        total_value=days.day_value.sum(),
        first_value=days.day_value.argmin(days.day),
    )
    refunds = _later_refunds(events.filter(events.event_type == "refund", *keep), per_customer)
    per_customer = per_customer.left_join(refunds, "subscriber_id")
    frequency = per_customer.n_days - 1
    repeat_value = (per_customer.total_value - per_customer.first_value
                    + per_customer.later_refunds.fill_null(0.0))
    return per_customer.select(
        "subscriber_id",
        frequency=frequency.cast("float64"),
        recency=(per_customer.last_day - per_customer.first_day) / length,
        T=(as_of_day - per_customer.first_day) / length,
        monetary_value=ibis.ifelse(frequency > 0, ibis.greatest(repeat_value / frequency, 0.0), 0.0),
    )


def _later_refunds(refunds: ir.Table, per_customer: ir.Table) -> ir.Table:
    """Sum of each buyer's refund values (negative) after their first purchase day."""
    firsts = per_customer.select("subscriber_id", "first_day")
    dated = refunds.mutate(day=utc_day(refunds.ts)).join(firsts, "subscriber_id")
    later = dated.filter(dated.day > dated.first_day)
    return later.group_by("subscriber_id").aggregate(later_refunds=later.value.sum())


def rfm(
    source: Source,
    as_of: object,
    *,
    unit: str = "D",
    start: object | None = None,
    assume_utc: bool = False,
) -> pd.DataFrame:
    """The RFM summary (``frequency``, ``recency``, ``T``, ``monetary_value``) used by CLV models.

    Parameters
    ----------
    source
        A segkit ``Workspace``, an Ibis backend with an ``events`` table, or a mapping
        ``{"events": DataFrame}``.
    as_of
        Time-zone-aware end of the observation period; only purchases with ``ts <= as_of`` count.
    unit
        ``"D"`` (days) or ``"W"`` (weeks = 7 days) for ``recency`` and ``T``.
    start
        Optional time-zone-aware start: purchases before it are ignored (a cohort start).
    assume_utc
        Read zone-less timestamp columns as UTC when the engine's session time zone cannot be
        queried (see :mod:`segkit.features._source`); a queried session zone other than UTC is
        refused either way. Not needed for a workspace, zone-aware columns, or a Spark, DuckDB or
        Postgres session in UTC.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``subscriber_id`` (customers with a purchase in the period only), float
        columns ``frequency, recency, T, monetary_value``; ``attrs`` holds ``as_of``, ``unit``
        (also as ``rfm_unit``, the key of :func:`compute`) and ``start`` (ISO 8601 strings). Definitions in the module docstring (Fader, Hardie & Lee 2005).
    """
    as_of_ts = utc_timestamp(as_of)
    unit = check_unit(unit, "unit")
    start_ts = None if start is None else utc_timestamp(start, "start")
    tables = resolve(source, event_columns=RFM_EVENT_COLUMNS, assume_utc=assume_utc)
    frame = fetch(rfm_expr(tables.events, as_of_ts, unit=unit, start=start_ts))
    frame = frame.set_index("subscriber_id").sort_index()
    frame = frame.astype("float64")
    frame.attrs.update(
        as_of=as_of_ts.isoformat(),
        unit=unit,
        rfm_unit=unit,  # the key segkit.features.compute uses, read by the CLV models' fit_features
        start=None if start_ts is None else start_ts.isoformat(),
    )
    return frame
