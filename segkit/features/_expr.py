"""The whole feature table as ONE Ibis expression, for engines that should keep the rows.

:func:`compute_expr` gives the table of :func:`segkit.features.compute` with the same
definitions (``_windows``, ``_cart``, ``_rfm``, ``_local_time``) but, instead of fetching long
per-(subscriber, window bucket) results and spreading them with numpy, it builds the wide rows
in the engine:

* per window a conditional count ``count(*) FILTER (WHERE <kind> AND ts > start)`` per
  subscriber, straight from the events (one pass; no per-(subscriber, bucket) table in
  between, whose hash table and the 16-byte sum states of spreading it per window made the
  query spill heavily at 5M subscribers under a 4 GB DuckDB memory limit);
* local hour / weekday columns as conditional counts over the human opens' local slots;
* everything left-joined onto the subscribers known at ``as_of`` (listed subscribers plus
  anyone with an event), rates and day differences computed in SQL.

The result can be written where it is computed (``expr.to_parquet(path)``,
``backend.create_table("features", expr)``) without collecting rows to the driver. On one
machine :func:`~segkit.features.compute` is faster (numpy spreads long results in a few
``bincount`` calls); both give the same table (``tests/features/test_expr.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir
import pandas as pd

from segkit._config import DEFAULT_WINDOWS_DAYS
from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.features._assemble import RECENCY_COLUMNS, column_order
from segkit.features._cart import abandoned_adds
from segkit.features._compute import feature_queries
from segkit.features._fetch import fetch
from segkit.features._local_time import HOUR_COLUMNS, WEEKDAY_COLUMNS
from segkit.features._params import SECONDS_PER_DAY, check_hours, check_unit, check_windows
from segkit.features._rfm import RFM_COLUMNS
from segkit.features._source import Source, Tables, resolve
from segkit.features._windows import (
    COUNTED_EVENTS,
    PRICING_PAGE_PATTERN,
    campaign_touches,
    window_starts,
)

__all__ = ["compute_expr"]

ID = "subscriber_id"


def _epoch(ts: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since 1970-01-01 UTC with microseconds, the same on every engine (DuckDB's
    ``epoch`` keeps fractions, Spark's ``unix_timestamp`` drops them)."""
    whole = ts.truncate("s").epoch_seconds().cast("float64")
    return whole + _microsecond(ts).cast("float64") / 1e6


def _microsecond(ts: ir.TimestampValue) -> ir.IntegerValue:
    """The microseconds within the second. Ibis cannot extract them on Spark, whose
    ``date_format(ts, 'SSSSSS')`` (Ibis ``strftime('%f')``) gives them instead; elsewhere the
    extraction is kept (formatting every row as text is slower)."""
    try:
        engine = ts._find_backend(use_default=True).name
    except Exception:  # an expression without a backend: compiled for the default one
        engine = None
    if engine == "pyspark":
        return ts.strftime("%f").cast("int64")
    return ts.microsecond()


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator, null (NaN in pandas) where the denominator is 0."""
    return ibis.ifelse(
        denominator > 0, numerator.cast("float64") / denominator, ibis.null("float64")
    )


def _window_counts(table: ir.Table, starts: list[ir.Scalar], windows: tuple[int, ...],
                   flags: dict[str, ir.BooleanValue]) -> dict[str, ir.IntegerValue]:
    """``{f"{stem}_{w}d": count(flag and ts in window w)}`` for every stem and window.

    Counted per subscriber straight from the rows (no per-(subscriber, window bucket) table in
    between): a count's aggregate state is 8 bytes, where summing a bucketed table per window
    needs a 16-byte sum state per column, and the two aggregates' hash tables (one per
    subscriber and bucket, one per subscriber) do not both have to be held. Stored as int32
    (cast back to int64 at the end) so the rows waiting to be joined are half as wide."""
    return {
        f"{stem}_{w}d": table.count(where=flag & (table.ts > start)).cast("int32")
        for start, w in zip(starts, windows, strict=True)
        for stem, flag in flags.items()
    }


def _event_wide(events: ir.Table, starts: list[ir.Scalar], windows: tuple[int, ...]) -> ir.Table:
    """Per subscriber with an event: the windowed counts and net revenue of
    :func:`~segkit.features._windows.event_summary` (same definitions), last human open /
    click / purchase, first event and whether it has an unsubscribe event."""
    kind = events.event_type
    keyed = events.mutate(
        **{f"_is_{stem}": kind == event_type for stem, event_type in COUNTED_EVENTS.items()},
        _is_human_open=(kind == "open") & ~events.machine_open,
        _is_pricing=(kind == "web_visit") & events.properties.re_search(PRICING_PAGE_PATTERN),
        _is_valued=(kind == "purchase") & events.value.notnull(),
        _is_money=(kind == "purchase") | (kind == "refund"),
    )
    flags = {stem: keyed[f"_is_{stem}"] for stem in COUNTED_EVENTS}
    flags.update(human_opens=keyed._is_human_open, pricing_page_visits=keyed._is_pricing,
                 valued=keyed._is_valued)  # fmt: skip
    revenue = {
        f"revenue_{w}d": keyed.value.sum(where=keyed._is_money & (keyed.ts > start))
        for start, w in zip(starts, windows, strict=True)
    }
    return keyed.group_by(ID).aggregate(
        **_window_counts(keyed, starts, windows, flags),
        **revenue,
        last_open_ts=keyed.ts.max(where=keyed._is_human_open),
        last_click_ts=keyed.ts.max(where=keyed._is_clicks),
        last_purchase_ts=keyed.ts.max(where=keyed._is_purchase_count),
        first_ts=keyed.ts.min(),
        any_unsubscribe=keyed.count(where=keyed._is_unsubscribes) > 0,
    )


def _campaign_wide(events: ir.Table, starts: list[ir.Scalar], windows: tuple[int, ...]) -> ir.Table:
    """Distinct campaigns with a human open / a click per window (as
    :func:`~segkit.features._windows.campaign_summary`: a campaign counts where its last touch
    falls)."""
    touches = campaign_touches(events)
    last = touches.group_by([ID, "campaign_id", "event_type"]).aggregate(ts=touches.ts.max())
    flags = {"unique_opens": last.event_type == "open", "unique_clicks": last.event_type == "click"}
    return last.group_by(ID).aggregate(**_window_counts(last, starts, windows, flags))


def _cart_wide(events: ir.Table, as_of: pd.Timestamp, starts: list[ir.Scalar],
               windows: tuple[int, ...], hours: float) -> ir.Table:
    """Abandoned cart adds per window (as :func:`~segkit.features._cart.cart_abandonments`)."""
    adds = abandoned_adds(events, hours, judged_by=as_of)
    flags = {"cart_abandonments": ibis.literal(True)}
    return adds.group_by(ID).aggregate(**_window_counts(adds, starts, windows, flags))


def _local_wide(slots: ir.Table) -> ir.Table:
    hour, day = slots.slot % 24, slots.slot // 24
    return slots.group_by(ID).aggregate(
        **{name: slots.count(where=hour == h).cast("int32") for h, name in enumerate(HOUR_COLUMNS)},
        **{name: slots.count(where=day == d).cast("int32") for d, name in enumerate(WEEKDAY_COLUMNS)},
    )


def _known(event_wide: ir.Table, subscribers: ir.Table | None) -> ir.Table:
    """The row keys: subscribers with an event by ``as_of`` plus the listed subscribers."""
    with_events = event_wide.select(ID)
    if subscribers is None:
        return with_events
    listed = subscribers.filter(subscribers.listed).select(ID)
    return with_events.union(listed, distinct=True)


def _check_unique_subscribers(tables: Tables) -> None:
    subs = tables.subscribers
    dupes = subs.group_by(ID).aggregate(n=subs.count()).filter(lambda t: t.n > 1)
    found = fetch(dupes.select(ID).order_by(ID).limit(5))[ID].tolist()
    if found:
        raise ValidationError(f"subscribers.subscriber_id must be unique; duplicated: {found}")


def _joined(base: ir.Table, parts: list[ir.Table]) -> ir.Table:
    """``base`` with every part (keyed by ``_key``) left-joined on the subscriber id."""
    table = base
    for part in parts:
        table = table.left_join(part, table[ID] == part._key).drop("_key")
    return table


def compute_expr(
    source: Source,
    as_of: object,
    *,
    windows: Iterable[int] = DEFAULT_WINDOWS_DAYS,
    rfm_unit: str = "D",
    cart_abandon_hours: float = 24,
    assume_utc: bool = False,
) -> ir.Table:
    """The feature table of :func:`segkit.features.compute` as one Ibis expression.

    Same parameters (``assume_utc`` too) and the same columns, values and meaning as
    :func:`~segkit.features.compute`, with ``subscriber_id`` as the first column (not an index)
    and rows ordered by it. Nothing is computed except three tiny queries (time zones in use,
    first event year, duplicated subscriber ids); execute the expression where the data live::

        expr = features.compute_expr(workspace_or_backend, "2024-06-30")
        expr.to_parquet("features.parquet")            # streamed by the engine
        backend.create_table("features_2024_06_30", expr)   # stays in Spark / the warehouse
        frame = expr.to_pandas()                        # or collect it after all

    Counts are ``int64``, rates and days ``float64`` (null where ``compute`` has NaN),
    ``unsubscribed`` and ``consent`` boolean, ``timezone`` string. The settings ``compute``
    keeps in ``attrs`` are not part of an expression; they are the arguments given.

    Raises
    ------
    ValidationError
        Bad ``as_of``, windows, unit or hours (as ``compute``), duplicated subscriber ids or an
        unknown time zone.
    """
    as_of_ts = utc_timestamp(as_of)
    window_days = check_windows(windows)
    unit = check_unit(rfm_unit)
    hours = check_hours(cart_abandon_hours)
    tables = resolve(source, assume_utc=assume_utc)
    if tables.subscribers is not None:
        _check_unique_subscribers(tables)
    return _feature_expr(tables, as_of_ts, window_days, unit, hours)


def _feature_expr(
    tables: Tables, as_of: pd.Timestamp, windows: tuple[int, ...], unit: str, hours: float
) -> ir.Table:
    queries = feature_queries(
        tables, as_of, windows=windows, rfm_unit=unit, cart_abandon_hours=hours, local_slots=True
    )
    events = tables.events.filter(tables.events.ts <= ibis.literal(as_of, type="timestamp('UTC')"))
    starts = window_starts(as_of, windows)
    event_wide = _event_wide(events, starts, windows)
    parts = [
        event_wide,
        _campaign_wide(events, starts, windows),
        _cart_wide(events, as_of, starts, windows, hours),
        queries["rfm"],
        _local_wide(queries["local_opens"]),
    ]
    subscribers = queries.get("subscribers")
    with_subscribers = subscribers is not None
    if with_subscribers:
        parts.append(subscribers.drop("listed"))
    table = _joined(_known(event_wide, subscribers), [part.rename(_key=ID) for part in parts])
    return _select_columns(table, as_of, windows, with_subscribers=with_subscribers)


def _days_before(as_of: pd.Timestamp, ts: ir.TimestampValue) -> ir.FloatingValue:
    return (as_of.timestamp() - _epoch(ts)) / SECONDS_PER_DAY


def _select_columns(
    table: ir.Table, as_of: pd.Timestamp, windows: tuple[int, ...], *, with_subscribers: bool
) -> ir.Table:
    """Fill, derive and order the columns of ``compute``'s table."""
    int64, float64 = "int64", "float64"
    columns: dict[str, ir.Value] = {}
    for w in windows:
        def count(stem: str, w: int = w) -> ir.IntegerValue:
            return table[f"{stem}_{w}d"].fill_null(0).cast(int64)

        col = {stem: count(stem) for stem in (*COUNTED_EVENTS, "human_opens",
               "pricing_page_visits", "unique_opens", "unique_clicks", "cart_abandonments")}
        col["revenue"] = table[f"revenue_{w}d"].cast(float64).fill_null(0.0)
        col["open_rate"] = _ratio(col["unique_opens"], col["sends"])
        col["click_rate"] = _ratio(col["unique_clicks"], col["sends"])
        col["click_to_open_rate"] = _ratio(col["unique_clicks"], col["unique_opens"])
        col["average_order_value"] = _ratio(col["revenue"], count("valued"))
        columns.update({f"{stem}_{w}d": value for stem, value in col.items()})
    for name, key in zip(RECENCY_COLUMNS, ("last_open_ts", "last_click_ts", "last_purchase_ts"),
                         strict=True):  # fmt: skip
        columns[name] = _days_before(as_of, table[key])
    any_unsubscribe = table.any_unsubscribe.fill_null(False)
    if with_subscribers:
        start = ibis.least(table.signup_at, table.first_ts)
        unsubscribed = table.unsubscribed.fill_null(False) | any_unsubscribe
        consent, timezone = table.consent, table.timezone
    else:
        start = table.first_ts
        unsubscribed = any_unsubscribe
        consent, timezone = ibis.null("boolean"), ibis.null("string")
    columns["tenure_days"] = _days_before(as_of, start)
    columns.update({name: table[name].cast(float64) for name in RFM_COLUMNS})
    columns.update({name: table[name].fill_null(0).cast(int64)
                    for name in (*HOUR_COLUMNS, *WEEKDAY_COLUMNS)})  # fmt: skip
    columns.update(unsubscribed=unsubscribed, consent=consent.cast("boolean"),
                   timezone=timezone.cast("string"))  # fmt: skip
    ordered = {name: columns[name] for name in column_order(windows)}
    return table.select(ID, **ordered).order_by(ID)
