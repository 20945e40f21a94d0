"""The feature table: one row per subscriber known as of ``as_of``.

:func:`feature_queries` builds the Ibis expressions (portable: no SQL strings); :func:`compute`
runs them and assembles the table. Each query is one pass over the events for ALL windows.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir
import pandas as pd

from segkit._config import DEFAULT_WINDOWS_DAYS
from segkit._engine import release_memory
from segkit._timestamps import utc_timestamp
from segkit.features._assemble import assemble, column_order
from segkit.features._cart import cart_abandonments
from segkit.features._local_time import local_open_slots, local_opens, offset_table, zones_in_use
from segkit.features._params import check_hours, check_unit, check_windows
from segkit.features._rfm import rfm_expr
from segkit.features._source import Source, Tables, resolve
from segkit.features._windows import campaign_summary, event_summary

__all__ = ["compute", "feature_columns", "feature_queries"]


def feature_columns(windows: Iterable[int] = DEFAULT_WINDOWS_DAYS) -> list[str]:
    """The columns of :func:`compute`'s table for ``windows``, in order."""
    return column_order(check_windows(windows))


def _subscriber_attributes(tables: Tables, as_of: pd.Timestamp) -> ir.Table | None:
    """Every subscriber's attributes as of ``as_of``; ``listed`` marks those signed up by then
    (or with no signup time). Unlisted subscribers still get a row if they have events."""
    if tables.subscribers is None:
        return None
    subs = tables.subscribers
    literal = ibis.literal(as_of, type="timestamp('UTC')")
    signed_up = subs.signup_at <= literal
    return subs.select(
        "subscriber_id",
        "timezone",
        "consent",
        listed=subs.signup_at.isnull() | signed_up,
        signup_at=ibis.ifelse(signed_up, subs.signup_at, ibis.null("timestamp('UTC')")),
        unsubscribed=(subs.unsubscribed_at <= literal).fill_null(False),
    )


def feature_queries(
    tables: Tables,
    as_of: pd.Timestamp,
    *,
    windows: tuple[int, ...],
    rfm_unit: str,
    cart_abandon_hours: float,
    local_slots: bool = False,
) -> dict[str, ir.Table]:
    """The Ibis expressions behind :func:`compute`, by name (validated arguments expected).

    Building them runs two tiny queries (time zones in use, first event year) for the local-time
    offset table. Every expression reads only events with ``ts <= as_of``. With ``local_slots``,
    ``local_opens`` is one row per human open with its local ``slot`` (see
    :func:`~segkit.features._local_time.local_open_slots`) instead of one list per subscriber.
    """
    events = tables.events.filter(tables.events.ts <= ibis.literal(as_of, type="timestamp('UTC')"))
    zones, first_year = zones_in_use(events, tables.subscribers)
    offsets = offset_table(zones, first_year, as_of.year)
    queries = {
        "events": event_summary(events, as_of, windows),
        "campaigns": campaign_summary(events, as_of, windows),
        "cart_abandonments": cart_abandonments(events, as_of, windows, cart_abandon_hours),
        "rfm": rfm_expr(events, as_of, unit=rfm_unit),
        "local_opens": (local_open_slots if local_slots else local_opens)(
            events, tables.subscribers, offsets
        ),
    }
    subscribers = _subscriber_attributes(tables, as_of)
    if subscribers is not None:
        queries["subscribers"] = subscribers
    return queries


def _narrow_counts(summary: ir.Table) -> ir.Table:
    """The events summary with its counts as int32 (per subscriber and bucket they are small):
    the long result is the largest thing fetched, and this halves most of its columns."""
    counts = [name for name in summary.columns if name.startswith("n_") or name == "value_n"]
    return summary.mutate(**{name: summary[name].cast("int32") for name in counts})


def compute(
    source: Source,
    as_of: object,
    *,
    windows: Iterable[int] = DEFAULT_WINDOWS_DAYS,
    rfm_unit: str = "D",
    cart_abandon_hours: float = 24,
    assume_utc: bool = False,
) -> pd.DataFrame:
    """Compute the subscriber feature table as of ``as_of``.

    Only events with ``ts <= as_of`` are read. A window of W days is ``(as_of - W days, as_of]``
    and all windows come from one pass over the events (see ``segkit.features._windows``).

    Parameters
    ----------
    source
        A segkit ``Workspace`` (anything with ``.ibis()``, also one opened on Spark or a
        warehouse with ``Workspace.connect``), an Ibis backend holding ``events`` (and optionally
        ``subscribers``), or a mapping ``{"events": ..., "subscribers": ...}`` of Ibis tables or
        pandas DataFrames (DataFrames run in Ibis' default in-memory DuckDB). The queries run
        in the engine that holds the tables; only their per-subscriber results come back. Without ``subscribers``
        (transaction-only data such as CDNOW) ``tenure_days`` starts at the first event,
        ``consent`` and ``timezone`` are null, local-time opens are counted in UTC and
        ``unsubscribed`` comes from ``unsubscribe`` events only.
    as_of
        Time-zone-aware timestamp (a naive one is refused, not assumed UTC).
    windows
        Window lengths in days.
    rfm_unit
        ``"D"`` or ``"W"``: the unit of ``recency`` and ``T`` (stated in ``df.attrs["rfm_unit"]``).
    cart_abandon_hours
        A cart add without a purchase within this many hours is an abandonment.
    assume_utc
        Read zone-less timestamp columns as UTC when the engine's session time zone cannot be
        queried (see :mod:`segkit.features._source`); a queried session zone other than UTC is
        refused either way. Not needed for a workspace, zone-aware columns, or a Spark, DuckDB or
        Postgres session in UTC.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``subscriber_id`` (sorted): everyone in ``subscribers`` who signed up by
        ``as_of`` (or has no signup time) and everyone with an event at or before it.
        Per window W (``_{W}d``): ``sends``, ``opens`` (all, machine opens included),
        ``human_opens``, ``unique_opens`` (campaigns with a human open), ``clicks``,
        ``unique_clicks`` (campaigns clicked), ``open_rate`` = unique_opens / sends,
        ``click_rate`` = unique_clicks / sends, ``click_to_open_rate`` = unique_clicks /
        unique_opens, ``purchase_count``, ``revenue`` (net: purchase values plus the negative
        values of ``refund`` events in the window), ``average_order_value`` (net revenue per
        purchase that has a value), ``web_visits``, ``pricing_page_visits`` (web visits whose
        ``properties`` page/url/path mentions "pricing", see
        ``segkit.features._windows.PRICING_PAGE_PATTERN``), ``product_views``, ``cart_adds``,
        ``cart_abandonments`` (adds whose deadline passed by ``as_of`` without a purchase;
        counted by the add's time), ``unsubscribes``. Rates and means with a zero denominator
        are NaN, never 0. Rates count events in the window, so an open of a mail sent before the
        window counts; at window edges a rate can exceed 1. Then ``days_since_last_open``
        (human), ``days_since_last_click``, ``days_since_last_purchase`` (fractional days, NaN
        if never), ``tenure_days`` (from the earlier of signup and first event), ``frequency``,
        ``recency``, ``T``, ``monetary_value`` (Fader, Hardie & Lee 2005 RFM on UTC purchase
        days, see :func:`segkit.features.rfm`; NaN for subscribers without a purchase),
        ``opens_hour_00`` .. ``opens_hour_23`` and ``opens_weekday_0`` .. ``opens_weekday_6``
        (human opens up to ``as_of`` by local hour / weekday, Monday=0, DST-correct),
        ``unsubscribed`` (bool: ``unsubscribed_at <= as_of`` or an unsubscribe event),
        ``consent`` (the stored value: the table keeps no history) and ``timezone``.
        ``attrs``: ``as_of`` (ISO 8601 string, so ``to_parquet`` keeps it), ``windows``,
        ``rfm_unit``, ``cart_abandon_hours``.
    """
    as_of_ts = utc_timestamp(as_of)
    window_days = check_windows(windows)
    unit = check_unit(rfm_unit)
    hours = check_hours(cart_abandon_hours)
    tables = resolve(source, assume_utc=assume_utc)
    queries = feature_queries(
        tables, as_of_ts, windows=window_days, rfm_unit=unit, cart_abandon_hours=hours
    )
    queries["events"] = _narrow_counts(queries["events"])
    # Results stay in Arrow (no pandas conversion) and run as assemble asks (the long events
    # summary last); DuckDB then hands back its buffers before the table is built beside them.
    runs = {name: expr.to_pyarrow for name, expr in queries.items()}
    backend = queries["events"]._find_backend(use_default=True)
    frame = assemble(runs, as_of_ts, window_days, fetched=lambda: release_memory(backend))
    frame.attrs.update(
        as_of=as_of_ts.isoformat(), windows=window_days, rfm_unit=unit, cart_abandon_hours=hours
    )
    return frame
