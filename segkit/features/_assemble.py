"""Assemble the feature table from the long query results of ``_compute.feature_queries``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segkit.errors import ValidationError
from segkit.features._local_time import HOUR_COLUMNS, WEEKDAY_COLUMNS
from segkit.features._params import SECONDS_PER_DAY
from segkit.features._rfm import RFM_COLUMNS
from segkit.features._spread import cumulative, spread
from segkit.features._windows import COUNTED_EVENTS

__all__ = [
    "assemble", "check_unique", "column_order", "factorize_sorted", "feature_table", "id_chunks",
    "listed_status",
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
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


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


def factorize_sorted(chunks: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted unique values, and those values (one Arrow hashing pass)."""
    if not chunks:
        return np.zeros(0, np.int64), np.array([], dtype=object)
    total_bytes = sum(chunk.nbytes for chunk in chunks)
    if total_bytes >= 2**31 - 1:  # beyond 32-bit offsets
        chunks = [chunk.cast(pa.large_string()) for chunk in chunks]
    encoded = pc.dictionary_encode(pa.concat_arrays(chunks))
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return codes, encoded.dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)


def _positions(
    results: dict[str, pd.DataFrame | pa.Table],
) -> tuple[pd.Index, dict[str, np.ndarray], pd.DataFrame | None]:
    """The sorted feature index, each result row's position in it, and the subscriber rows that
    belong to the index.

    All ids are factorized in ONE pass (Arrow hashing); looking strings up per result would hash
    them again for every table.
    """
    subscribers = results.get("subscribers")
    names = list(results)  # every result is keyed by subscriber_id
    codes, uniques = factorize_sorted([c for name in names for c in id_chunks(results[name])])
    bounds = np.cumsum([0] + [len(results[name]) for name in names])
    positions = {name: codes[bounds[i] : bounds[i + 1]] for i, name in enumerate(names)}
    if subscribers is None:
        return pd.Index(uniques, name="subscriber_id", dtype="str"), positions, None
    check_unique(subscribers, positions["subscribers"], len(uniques))
    # Known = has an event by as_of, or listed (signed up by as_of, or no signup time).
    known = np.zeros(len(uniques), bool)
    known[positions["events"]] = True
    known[positions["subscribers"][subscribers["listed"].to_numpy(bool)]] = True
    keep = known[positions["subscribers"]]
    new_position = np.cumsum(known) - 1
    positions = {name: new_position[p] for name, p in positions.items()}
    positions["subscribers"] = positions["subscribers"][keep]
    return pd.Index(uniques[known], name="subscriber_id", dtype="str"), positions, subscribers[keep]


def check_unique(subscribers: pd.DataFrame, codes: np.ndarray, n: int) -> None:
    """Refuse duplicated subscriber ids (counted on the factorized codes; no second hashing)."""
    if len(codes) and np.bincount(codes, minlength=n).max() > 1:
        listed = subscribers["subscriber_id"]
        dupes = listed[listed.duplicated()].unique()[:5].tolist()
        raise ValidationError(f"subscribers.subscriber_id must be unique; duplicated: {dupes}")


def epoch_seconds(stamps: pd.Series) -> np.ndarray:
    """Seconds since 1970-01-01 UTC as floats (NaN for missing)."""
    return ((pd.to_datetime(stamps, utc=True) - EPOCH) / pd.Timedelta(seconds=1)).to_numpy(float)


def _per_row(values: np.ndarray, rows: np.ndarray, n: int, how: str) -> np.ndarray:
    """Max or min of ``values`` per row position (NaN where a row has none)."""
    out = np.full(n, np.nan)
    (np.fmax if how == "max" else np.fmin).at(out, rows, values)  # fmax/fmin skip NaN
    return out


def _event_columns(long: pd.DataFrame, rows: np.ndarray, n: int, windows: tuple[int, ...]) -> dict:
    nb, nw = len(windows) + 1, len(windows)
    buckets = long["bucket"].to_numpy(np.int64)

    def per_window(column: str) -> np.ndarray:
        weights = long[column].fillna(0).to_numpy(float)
        return cumulative(spread(rows, buckets, nb, n, weights), nw)

    out = {
        stem: per_window(f"n_{event_type}").astype(np.int64)
        for stem, event_type in COUNTED_EVENTS.items()
    }
    out["human_opens"] = per_window("n_human_open").astype(np.int64)
    out["pricing_page_visits"] = per_window("n_pricing_page_visit").astype(np.int64)
    # float even without events (np.bincount of nothing is integer, whatever the weights)
    out["revenue"] = per_window("value_sum").astype(float)
    out["valued"] = per_window("value_n").astype(float)
    for key in ("last_open", "last_click", "last_purchase"):
        out[key] = _per_row(epoch_seconds(long[f"{key}_ts"]), rows, n, "max")
    out["first_event"] = _per_row(epoch_seconds(long["first_ts"]), rows, n, "min")
    unsubscribes = long["n_unsubscribe"].to_numpy(float)
    out["any_unsubscribe"] = np.bincount(rows, weights=unsubscribes, minlength=n) > 0
    return out


def _bucketed(
    long: pd.DataFrame, rows: np.ndarray, n: int, windows: tuple[int, ...], weight: str
) -> np.ndarray:
    nb = len(windows) + 1
    by_bucket = spread(rows, long["bucket"].to_numpy(np.int64), nb, n, long[weight].to_numpy(float))
    return cumulative(by_bucket, len(windows))


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


def _local_columns(lists: pa.Table, rows: np.ndarray, n: int) -> dict[str, np.ndarray]:
    column = lists.column("slots")
    slots_per_row = pc.list_value_length(column).to_numpy(zero_copy_only=False).astype(np.int64)
    slots = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.int64)
    owners = np.repeat(rows, slots_per_row)
    # Two small spreads, not one of 168 slots: that array would be 168 x n floats.
    hours = spread(owners, slots % 24, 24, n).astype(np.int64)
    days = spread(owners, slots // 24, 7, n).astype(np.int64)
    columns = {name: hours[h] for h, name in enumerate(HOUR_COLUMNS)}
    columns.update({name: days[d] for d, name in enumerate(WEEKDAY_COLUMNS)})
    return columns


def assemble(
    results: dict[str, pd.DataFrame | pa.Table], as_of: pd.Timestamp, windows: tuple[int, ...]
) -> pd.DataFrame:
    """One row per subscriber, columns in :func:`column_order`."""
    index, rows, subscribers = _positions(results)
    n = len(index)
    ev = _event_columns(results["events"], rows["events"], n, windows)
    counts = {key: ev[key] for key in (*COUNTED_EVENTS, "human_opens", "pricing_page_visits",
                                       "revenue", "valued")}
    campaigns, cart = results["campaigns"], results["cart_abandonments"]
    for stem, weight in (("unique_opens", "opened"), ("unique_clicks", "clicked")):
        counts[stem] = _bucketed(campaigns, rows["campaigns"], n, windows, weight).astype(np.int64)
    abandoned = _bucketed(cart, rows["cart_abandonments"], n, windows, "n")
    counts["cart_abandonments"] = abandoned.astype(np.int64)
    listed = None if subscribers is None else _at_rows(subscribers, rows["subscribers"], n)
    rfm = _at_rows(results["rfm"], rows["rfm"], n)
    return feature_table(
        index, as_of, windows,
        counts=counts,
        times=ev,
        rfm={name: rfm[name].to_numpy(float) for name in RFM_COLUMNS},
        local=_local_columns(results["local_opens"], rows["local_opens"], n),
        status=None if listed is None else listed_status(listed),
        any_unsubscribe=ev["any_unsubscribe"],
    )  # fmt: skip


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
    :func:`listed_status` (None without a subscribers table).
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


def listed_status(listed: pd.DataFrame) -> dict[str, Any]:
    """``signup_seconds``, ``unsubscribed``, ``consent`` and ``timezone`` arrays from the
    subscriber rows laid out on the feature index (missing rows are NaN)."""
    return {
        "signup_seconds": epoch_seconds(listed["signup_at"]),
        "unsubscribed": listed["unsubscribed"].fillna(False).to_numpy(bool),
        "consent": listed["consent"].astype("boolean").array,
        "timezone": listed["timezone"].astype("string").array,
    }


def _status_columns(status: dict[str, Any] | None, has_unsubscribe: np.ndarray, n: int) -> dict:
    if status is None:
        return {
            "unsubscribed": has_unsubscribe,
            "consent": pd.array([pd.NA] * n, dtype="boolean"),
            "timezone": pd.array([pd.NA] * n, dtype="string"),
        }
    return {
        "unsubscribed": status["unsubscribed"] | has_unsubscribe,
        "consent": status["consent"],
        "timezone": status["timezone"],
    }


def _at_rows(frame: pd.DataFrame, rows: np.ndarray, n: int) -> pd.DataFrame:
    """``frame`` (one row per subscriber) laid out on the feature index positions 0..n-1."""
    return frame.set_axis(rows).reindex(np.arange(n))
