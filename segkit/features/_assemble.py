"""Assemble the feature table from the long query results of ``_compute.feature_queries``.

The results arrive as Arrow tables (:func:`assemble` takes callables and runs them itself):
the small ones first, the long events summary last, so the engine's working memory for the
largest query is never held beside the growing table; then the engine may hand its memory back
(``fetched``) before anything is spread. Each result is spread into per-subscriber numpy
columns and dropped (the events summary column by column): at 100M events the long results,
the engine's buffers and the finished table would not fit together. Every output column is
allocated once and filled in place; nothing goes through pandas until the final
``DataFrame(..., copy=False)``, which keeps the arrays as they are.

Subscriber ids are hashed once: the events summary and the subscriber rows are dictionary-encoded
together (Arrow), the sorted dictionary is the index, and the other results (subsets of the
events' subscribers) are looked up in it in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segkit.errors import ValidationError
from segkit.features._local_time import HOUR_COLUMNS, WEEKDAY_COLUMNS
from segkit.features._params import SECONDS_PER_DAY
from segkit.features._rfm import RFM_COLUMNS
from segkit.features._windows import COUNTED_EVENTS

__all__ = [
    "assemble", "check_unique", "column_order", "factorize_sorted", "feature_table", "id_chunks",
]

#: Per-window column stems, in output order.
WINDOW_STEMS = (
    "sends", "opens", "human_opens", "unique_opens", "clicks", "unique_clicks", "open_rate",
    "click_rate", "click_to_open_rate", "purchase_count", "revenue", "average_order_value",
    "web_visits", "pricing_page_visits", "product_views", "cart_adds", "cart_abandonments",
    "unsubscribes",
)  # fmt: skip
FLOAT_STEMS = ("open_rate", "click_rate", "click_to_open_rate", "revenue", "average_order_value")
RECENCY_COLUMNS = ("days_since_last_open", "days_since_last_click", "days_since_last_purchase")
STATUS_COLUMNS = ("unsubscribed", "consent", "timezone")
#: The results spread after the events summary (ids: subsets of the events').
LATER_RESULTS = ("campaigns", "cart_abandonments", "rfm", "local_opens")
#: The order :func:`assemble` runs the queries in: the long events summary last.
FETCH_ORDER = (*LATER_RESULTS, "subscribers", "events")
#: Stands for "no timestamp" in microsecond arrays (below every real instant).
_NO_TIME = np.iinfo(np.int64).min


def column_order(windows: tuple[int, ...]) -> list[str]:
    """Output columns for (validated) ``windows``."""
    columns = [f"{stem}_{w}d" for w in windows for stem in WINDOW_STEMS]
    columns += [*RECENCY_COLUMNS, "tenure_days", *RFM_COLUMNS, *HOUR_COLUMNS, *WEEKDAY_COLUMNS]
    return columns + list(STATUS_COLUMNS)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def id_chunks(frame: pd.DataFrame | pa.Table) -> list[pa.Array]:
    ids = (
        frame.column("subscriber_id")
        if isinstance(frame, pa.Table)
        else pa.array(frame["subscriber_id"])
    )
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    # Plain (32-bit offset) strings hash faster than large ones; ids are short.
    return [chunk if chunk.type == pa.string() else chunk.cast(pa.string()) for chunk in chunks]


def _encode(chunks: list[pa.Array]) -> tuple[np.ndarray, pa.Array]:
    """Codes of every id (concatenated) into a dictionary of the distinct ids, and that
    dictionary (unsorted; one Arrow hashing pass, no concatenation of the strings)."""
    if not chunks:
        return np.zeros(0, np.int64), pa.array([], pa.string())
    if sum(chunk.nbytes for chunk in chunks) >= 2**31 - 1:  # beyond 32-bit offsets
        chunks = [chunk.cast(pa.large_string()) for chunk in chunks]
    encoded = pc.dictionary_encode(pa.chunked_array(chunks))
    if not encoded.num_chunks:
        return np.zeros(0, np.int64), pa.array([], chunks[0].type)
    # Every chunk of a chunked encoding shares the final dictionary.
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks])
    return codes.astype(np.int64, copy=False), encoded.chunk(0).dictionary


def _sort_ranks(dictionary: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each dictionary entry's rank in sorted order, and the sorting permutation."""
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank, order


def factorize_sorted(chunks: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted unique values, and those values (one Arrow hashing pass)."""
    codes, dictionary = _encode(chunks)
    rank, order = _sort_ranks(dictionary)
    return rank[codes], dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)


def check_unique(subscribers: pd.DataFrame, codes: np.ndarray, n: int) -> None:
    """Refuse duplicated subscriber ids (counted on the factorized codes; no second hashing)."""
    if len(codes) and np.bincount(codes, minlength=n).max() > 1:
        listed = subscribers["subscriber_id"]
        dupes = listed[listed.duplicated()].unique()[:5].tolist()
        raise ValidationError(f"subscribers.subscriber_id must be unique; duplicated: {dupes}")


class _Keys:
    """The feature index and where each result row goes in it.

    Built from the events summary and the subscriber rows; ``positions`` maps the ids of a
    later result (all of them appear in the events summary) to index positions.
    """

    def __init__(self, events: pa.Table, subscribers: pa.Table | None) -> None:
        n_events = events.num_rows
        sub_chunks = [] if subscribers is None else id_chunks(subscribers)
        codes, dictionary = _encode(id_chunks(events) + sub_chunks)
        rank, order = _sort_ranks(dictionary)
        n_unique = len(dictionary)
        known = np.zeros(n_unique, bool)
        known[codes[:n_events]] = True  # anyone with an event by as_of
        self.subscriber_rows: np.ndarray | None = None
        if subscribers is not None:
            sub_codes = codes[n_events:]
            if len(sub_codes) and np.bincount(sub_codes, minlength=n_unique).max() > 1:
                ids = pd.DataFrame({"subscriber_id": subscribers.column("subscriber_id").to_pandas()})
                check_unique(ids, sub_codes, n_unique)
            listed = _bools(subscribers.column("listed"))
            known[sub_codes[listed]] = True  # signed up by as_of, or no signup time
            keep = known[sub_codes]
            self.subscriber_rows = np.flatnonzero(keep)
        # position of each dictionary entry in the (sorted, known-only) index; -1 if not in it
        sorted_known = known[order]
        position_of_rank = np.cumsum(sorted_known) - 1
        self._position = np.where(known, position_of_rank[rank], -1)
        self.n = int(sorted_known.sum())
        self.events = self._position[codes[:n_events]]
        if subscribers is not None:
            self.subscribers = self._position[codes[n_events:][self.subscriber_rows]]
        self._dictionary = dictionary
        ids = dictionary.take(pa.array(order[sorted_known]))
        self.index = pd.Index(pd.array(ids, dtype="str"), name="subscriber_id")

    def positions(self, tables: Mapping[str, pa.Table]) -> dict[str, np.ndarray]:
        """Index positions of the rows of ``tables`` (one hash lookup for all of them)."""
        names = list(tables)
        chunks = [chunk for name in names for chunk in id_chunks(tables[name])]
        if not chunks or not sum(len(chunk) for chunk in chunks):
            return {name: np.zeros(0, np.int64) for name in names}
        ids = pa.chunked_array(chunks)
        if self._dictionary.type == pa.large_string():
            ids = ids.cast(pa.large_string())
        found = pc.index_in(ids, value_set=self._dictionary)
        if found.null_count:
            raise RuntimeError("a feature query returned a subscriber missing from the events summary")
        codes = found.to_numpy(zero_copy_only=False)
        bounds = np.cumsum([0] + [tables[name].num_rows for name in names])
        all_positions = self._position[codes]
        return {name: all_positions[bounds[i] : bounds[i + 1]] for i, name in enumerate(names)}


def _bools(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A boolean Arrow column as numpy, null as False."""
    return pc.fill_null(column, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _numbers(column: pa.ChunkedArray | pa.Array, fill: float | int = 0) -> np.ndarray:
    """A numeric Arrow column as numpy, nulls replaced by ``fill``."""
    if column.null_count:
        column = pc.fill_null(column, fill)
    return column.to_numpy(zero_copy_only=False)


def _micros(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamps as epoch microseconds (int64), :data:`_NO_TIME` for null."""
    microseconds = pa.timestamp("us", tz=column.type.tz)
    column = pc.cast(column, microseconds, safe=False).cast(pa.int64())
    return _numbers(column, _NO_TIME)


def _seconds(micros: np.ndarray) -> np.ndarray:
    """Epoch seconds as floats from microseconds (NaN for :data:`_NO_TIME`); the same float as
    ``(timestamp - epoch) / 1 second`` in pandas."""
    return np.where(micros == _NO_TIME, np.nan, micros / 1e6)


class _Buckets:
    """The rows of a long (subscriber, bucket) result by window bucket, for cumulative sums.

    Each (subscriber, bucket) appears at most once, so a bucket's rows scatter onto distinct
    positions: window ``i`` is window ``i - 1`` plus bucket ``i`` (buckets past the last window
    are never added).
    """

    def __init__(self, bucket: np.ndarray, rows: np.ndarray, n: int, n_windows: int) -> None:
        self.selected = [np.flatnonzero(bucket == i) for i in range(n_windows)]
        self.rows = [rows[s] for s in self.selected]
        self.n = n

    def cumulative(self, values: np.ndarray, dtype: type) -> list[np.ndarray]:
        """Per-window totals of ``values`` (one new array per window)."""
        out = []
        total = np.zeros(self.n, dtype)
        for i, (selected, rows) in enumerate(zip(self.selected, self.rows, strict=True)):
            if i:
                total = total.copy()
            total[rows] += values[selected]
            out.append(total)
        return out


def _latest(micros: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The largest of ``micros`` per row position (:data:`_NO_TIME` where a row has none)."""
    out = np.full(n, _NO_TIME)
    np.maximum.at(out, rows, micros)
    return out


def _event_columns(long: dict[str, pa.ChunkedArray], rows: np.ndarray, n: int,
                   n_windows: int) -> tuple[dict, dict, np.ndarray]:
    """Per-window counts and sums, the last/first event times and "has an unsubscribe event"
    from the events summary's columns (see ``_windows.event_summary``), each popped from
    ``long`` (so released) once spread."""
    buckets = _Buckets(_numbers(long.pop("bucket")), rows, n, n_windows)
    any_unsubscribe = np.zeros(n, bool)
    any_unsubscribe[rows[_numbers(long["n_unsubscribe"]) > 0]] = True
    counts: dict[str, list[np.ndarray]] = {}
    for stem, column in [*((stem, f"n_{kind}") for stem, kind in COUNTED_EVENTS.items()),
                         ("human_opens", "n_human_open"),
                         ("pricing_page_visits", "n_pricing_page_visit"),
                         ("valued", "value_n")]:  # fmt: skip
        counts[stem] = buckets.cumulative(_numbers(long.pop(column)), np.int64)
    counts["revenue"] = buckets.cumulative(_numbers(long.pop("value_sum"), 0.0), np.float64)
    times = {key: _seconds(_latest(_micros(long.pop(f"{key}_ts")), rows, n))
             for key in ("last_open", "last_click", "last_purchase")}
    # The earliest is minus the latest of the negated times; _NO_TIME (int64's minimum) is its
    # own negation in two's complement, so "missing" stays missing both ways.
    times["first_event"] = _seconds(-_latest(-_micros(long.pop("first_ts")), rows, n))
    return counts, times, any_unsubscribe


def _bucketed(long: pa.Table, rows: np.ndarray, n: int, n_windows: int, column: str) -> list:
    buckets = _Buckets(_numbers(long.column("bucket")), rows, n, n_windows)
    return buckets.cumulative(_numbers(long.column(column)), np.int64)


def _local_columns(lists: pa.Table, rows: np.ndarray, n: int) -> dict[str, np.ndarray]:
    column = lists.column("slots")
    slots_per_row = _numbers(pc.list_value_length(column)).astype(np.int64, copy=False)
    slots = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.int64)
    owners = np.repeat(rows, slots_per_row)
    # Key-major counts (no weights: bincount counts in int64), so each hour's column is one
    # contiguous row of the result; two small spreads, not one of 168 x n slots.
    hours = np.bincount((slots % 24) * n + owners, minlength=24 * n).reshape(24, n)
    days = np.bincount((slots // 24) * n + owners, minlength=7 * n).reshape(7, n)
    columns = {name: hours[h] for h, name in enumerate(HOUR_COLUMNS)}
    columns.update({name: days[d] for d, name in enumerate(WEEKDAY_COLUMNS)})
    return columns


def _status(subscribers: pa.Table, rows: np.ndarray, kept_rows: np.ndarray, n: int) -> dict[str, Any]:
    """``signup_seconds``, ``unsubscribed``, ``consent`` and ``timezone`` on the feature index
    from the subscriber rows ``kept_rows``, at positions ``rows`` (missing: NaN / False / NA)."""
    kept = subscribers.take(pa.array(kept_rows))
    signup = np.full(n, np.nan)
    signup[rows] = _seconds(_micros(kept.column("signup_at")))
    unsubscribed = np.zeros(n, bool)
    unsubscribed[rows] = _bools(kept.column("unsubscribed"))
    consent = kept.column("consent")
    values, mask = np.zeros(n, bool), np.ones(n, bool)
    values[rows] = _bools(consent)
    mask[rows] = _bools(pc.is_null(consent))
    where = np.full(n, -1, np.int64)
    where[rows] = np.arange(len(rows))
    taken = kept.column("timezone").take(pa.array(where, mask=where < 0))
    return {
        "signup_seconds": signup,
        "unsubscribed": unsubscribed,
        "consent": pd.arrays.BooleanArray(values, mask),
        "timezone": pd.array(taken.cast(pa.string()), dtype="string"),
    }


def assemble(
    results: Mapping[str, Callable[[], pa.Table]],
    as_of: pd.Timestamp,
    windows: tuple[int, ...],
    *,
    fetched: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """One row per subscriber, columns in :func:`column_order`.

    ``results`` maps each query name of ``feature_queries`` to a callable that runs it and
    returns an Arrow table; they are run in :data:`FETCH_ORDER` (the long events summary
    last), then ``fetched`` is called (e.g. to let the engine free its buffers), then every
    result is spread and released in turn.
    """
    n_windows = len(windows)
    fetched_results = {name: results[name]() for name in FETCH_ORDER if name in results}
    if fetched is not None:
        fetched()
    subscribers = fetched_results.pop("subscribers", None)
    events = fetched_results.pop("events")
    keys = _Keys(events, subscribers)
    n = keys.n
    long = dict(zip(events.column_names, events.columns, strict=True))
    del events
    counts, times, any_unsubscribe = _event_columns(long, keys.events, n, n_windows)
    del long
    status = None
    if subscribers is not None:
        status = _status(subscribers, keys.subscribers, keys.subscriber_rows, n)
        del subscribers
    later = fetched_results
    rows = keys.positions(later)
    campaigns = later.pop("campaigns")
    for stem, column in (("unique_opens", "opened"), ("unique_clicks", "clicked")):
        counts[stem] = _bucketed(campaigns, rows["campaigns"], n, n_windows, column)
    del campaigns
    cart = later.pop("cart_abandonments")
    counts["cart_abandonments"] = _bucketed(cart, rows["cart_abandonments"], n, n_windows, "n")
    del cart
    rfm_table = later.pop("rfm")
    rfm = {}
    for name in RFM_COLUMNS:
        out = np.full(n, np.nan)
        out[rows["rfm"]] = rfm_table.column(name).to_numpy(zero_copy_only=False)
        rfm[name] = out
    del rfm_table
    local = _local_columns(later.pop("local_opens"), rows["local_opens"], n)
    return feature_table(
        keys.index, as_of, windows,
        counts=counts, times=times, rfm=rfm, local=local, status=status,
        any_unsubscribe=any_unsubscribe,
    )  # fmt: skip


def _window_frame(counts: dict[str, np.ndarray], windows: tuple[int, ...]) -> dict:
    """The per-window columns from per-window totals ``(n_windows, n)``: the stems of
    :data:`COUNTED_EVENTS`, ``human_opens``, ``pricing_page_visits``, ``unique_opens``,
    ``unique_clicks``, ``cart_abandonments`` (counts) and ``revenue``, ``valued`` (sums)."""
    columns: dict[str, np.ndarray] = {}
    for i, w in enumerate(windows):
        col = {stem: counts[stem][i] for stem in WINDOW_STEMS if stem in counts}
        col["open_rate"] = _ratio(col["unique_opens"], col["sends"])
        col["click_rate"] = _ratio(col["unique_clicks"], col["sends"])
        col["click_to_open_rate"] = _ratio(col["unique_clicks"], col["unique_opens"])
        col["average_order_value"] = _ratio(col["revenue"], counts["valued"][i])
        columns.update({f"{stem}_{w}d": col[stem] for stem in WINDOW_STEMS})
    return columns


def feature_table(
    index: pd.Index,
    as_of: pd.Timestamp,
    windows: tuple[int, ...],
    *,
    counts: dict[str, np.ndarray],
    times: dict[str, np.ndarray],
    rfm: dict[str, np.ndarray],
    local: dict[str, np.ndarray],
    status: dict[str, Any] | None,
    any_unsubscribe: np.ndarray,
) -> pd.DataFrame:
    """The feature table from per-subscriber arrays on ``index`` (shared by :func:`assemble` and
    :class:`segkit.features.FeatureTimeline`).

    ``counts``: see :func:`_window_frame`; ``times``: ``last_open``, ``last_click``,
    ``last_purchase`` and ``first_event`` in epoch seconds (NaN if none); ``rfm``: the
    :data:`RFM_COLUMNS`; ``local``: the hour and weekday columns; ``status``: see
    :func:`_status` (None without a subscribers table).
    """
    n = len(index)
    now = as_of.timestamp()
    columns = _window_frame(counts, windows)
    for name, key in zip(
        RECENCY_COLUMNS, ("last_open", "last_click", "last_purchase"), strict=True
    ):
        columns[name] = (now - times[key]) / SECONDS_PER_DAY
    signup = np.full(n, np.nan) if status is None else status["signup_seconds"]
    columns["tenure_days"] = (now - np.fmin(signup, times["first_event"])) / SECONDS_PER_DAY
    columns.update(rfm)
    columns.update(local)
    columns.update(_status_columns(status, any_unsubscribe, n))
    # copy=False: the columns are fresh arrays, so skip pandas' copy into 2-D blocks.
    ordered = {name: columns[name] for name in column_order(windows)}
    return pd.DataFrame(ordered, index=index, copy=False)


def _status_columns(status: dict[str, Any] | None, has_unsubscribe: np.ndarray, n: int) -> dict:
    if status is None:
        return {
            "unsubscribed": has_unsubscribe,
            "consent": pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool)),
            "timezone": pd.array(pa.nulls(n, pa.string()), dtype="string"),
        }
    return {
        "unsubscribed": status["unsubscribed"] | has_unsubscribe,
        "consent": status["consent"],
        "timezone": status["timezone"],
    }


