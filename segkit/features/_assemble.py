"""Assemble the feature table from the long query results of ``_compute.feature_queries``."""

from __future__ import annotations

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

__all__ = ["assemble", "column_order"]

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


def _id_chunks(frame: pd.DataFrame | pa.Table) -> list[pa.Array]:
    ids = (
        frame.column("subscriber_id")
        if isinstance(frame, pa.Table)
        else pa.array(frame["subscriber_id"])
    )
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    # Plain (32-bit offset) strings hash faster than large ones; ids are short.
    return [chunk if chunk.type == pa.string() else chunk.cast(pa.string()) for chunk in chunks]


def _factorize_sorted(chunks: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
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
    codes, uniques = _factorize_sorted([c for name in names for c in _id_chunks(results[name])])
    bounds = np.cumsum([0] + [len(results[name]) for name in names])
    positions = {name: codes[bounds[i] : bounds[i + 1]] for i, name in enumerate(names)}
    if subscribers is None:
        return pd.Index(uniques, name="subscriber_id", dtype="str"), positions, None
    _check_unique(subscribers, positions["subscribers"], len(uniques))
    # Known = has an event by as_of, or listed (signed up by as_of, or no signup time).
    known = np.zeros(len(uniques), bool)
    known[positions["events"]] = True
    known[positions["subscribers"][subscribers["listed"].to_numpy(bool)]] = True
    keep = known[positions["subscribers"]]
    new_position = np.cumsum(known) - 1
    positions = {name: new_position[p] for name, p in positions.items()}
    positions["subscribers"] = positions["subscribers"][keep]
    return pd.Index(uniques[known], name="subscriber_id", dtype="str"), positions, subscribers[keep]


def _check_unique(subscribers: pd.DataFrame, codes: np.ndarray, n: int) -> None:
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
    out["revenue"] = per_window("value_sum")
    out["valued"] = per_window("value_n")
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


def _window_frame(
    results: dict[str, pd.DataFrame],
    rows: dict[str, np.ndarray],
    n: int,
    windows: tuple[int, ...],
    ev: dict,
) -> dict:
    campaigns = results["campaigns"]
    unique_opens = _bucketed(campaigns, rows["campaigns"], n, windows, "opened").astype(np.int64)
    unique_clicks = _bucketed(campaigns, rows["campaigns"], n, windows, "clicked").astype(np.int64)
    cart = results["cart_abandonments"]
    abandoned = _bucketed(cart, rows["cart_abandonments"], n, windows, "n").astype(np.int64)
    columns: dict[str, np.ndarray] = {}
    for i, w in enumerate(windows):
        col = {stem: ev[stem][i] for stem in COUNTED_EVENTS}
        col["human_opens"] = ev["human_opens"][i]
        col["pricing_page_visits"] = ev["pricing_page_visits"][i]
        col["unique_opens"] = unique_opens[i]
        col["unique_clicks"] = unique_clicks[i]
        col["cart_abandonments"] = abandoned[i]
        col["revenue"] = ev["revenue"][i]
        col["open_rate"] = _ratio(col["unique_opens"], col["sends"])
        col["click_rate"] = _ratio(col["unique_clicks"], col["sends"])
        col["click_to_open_rate"] = _ratio(col["unique_clicks"], col["unique_opens"])
        col["average_order_value"] = _ratio(col["revenue"], ev["valued"][i])
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
    now = as_of.timestamp()
    ev = _event_columns(results["events"], rows["events"], n, windows)
    columns = _window_frame(results, rows, n, windows, ev)
    for name, key in zip(
        RECENCY_COLUMNS, ("last_open", "last_click", "last_purchase"), strict=True
    ):
        columns[name] = (now - ev[key]) / SECONDS_PER_DAY
    listed = None if subscribers is None else _at_rows(subscribers, rows["subscribers"], n)
    signup = np.full(n, np.nan) if listed is None else epoch_seconds(listed["signup_at"])
    columns["tenure_days"] = (now - np.fmin(signup, ev["first_event"])) / SECONDS_PER_DAY
    rfm = _at_rows(results["rfm"], rows["rfm"], n)
    columns.update({name: rfm[name].to_numpy(float) for name in RFM_COLUMNS})
    columns.update(_local_columns(results["local_opens"], rows["local_opens"], n))
    columns.update(_status_columns(listed, ev["any_unsubscribe"], n))
    # copy=False: the columns are fresh arrays, so skip pandas' copy into 2-D blocks.
    ordered = {name: columns[name] for name in column_order(windows)}
    return pd.DataFrame(ordered, index=index, copy=False)


def _status_columns(listed: pd.DataFrame | None, has_unsubscribe: np.ndarray, n: int) -> dict:
    if listed is None:
        return {
            "unsubscribed": has_unsubscribe,
            "consent": pd.array([pd.NA] * n, dtype="boolean"),
            "timezone": pd.array([pd.NA] * n, dtype="string"),
        }
    return {
        "unsubscribed": listed["unsubscribed"].fillna(False).to_numpy(bool) | has_unsubscribe,
        "consent": listed["consent"].astype("boolean").array,
        "timezone": listed["timezone"].astype("string").array,
    }


def _at_rows(frame: pd.DataFrame, rows: np.ndarray, n: int) -> pd.DataFrame:
    """``frame`` (one row per subscriber) laid out on the feature index positions 0..n-1."""
    return frame.set_axis(rows).reindex(np.arange(n))
