"""Interactions in, one sparse subscriber x item matrix out (everything up to ``as_of`` only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from segkit._timestamps import utc_timestamp
from segkit.errors import InputError, ValidationError

__all__ = ["REQUIRED_COLUMNS", "InteractionMatrix", "check_interactions", "online_retail_interactions",
           "prepare"]

#: Columns every interactions table needs; ``weight`` (default 1 per row), ``category`` and
#: ``name`` are optional.
REQUIRED_COLUMNS = ("subscriber_id", "product_id", "ts")


def check_interactions(interactions: pd.DataFrame) -> None:
    """Refuse a table without the required columns (all missing ones listed) or with bad weights."""
    missing = sorted(set(REQUIRED_COLUMNS) - set(interactions.columns))
    if missing:
        raise InputError(
            f"interactions lack column(s) {', '.join(missing)}; need subscriber_id, product_id, ts "
            "(optional: weight, category, name)"
        )
    if "weight" in interactions.columns:
        weight = pd.to_numeric(interactions["weight"], errors="coerce")
        bad = ~(weight > 0)
        if bad.any():
            row = interactions.loc[bad].iloc[0].to_dict()
            raise InputError(f"{int(bad.sum()):,} interaction(s) have a weight that is not a positive "
                             f"number, e.g. {row}")


def _utc(ts: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(ts, utc=False)
    if getattr(stamps.dt, "tz", None) is None:
        raise InputError("interaction ts must be time-zone aware (localise it, e.g. with "
                         "Series.dt.tz_localize('Europe/London'))")
    return stamps.dt.tz_convert("UTC")


@dataclass(frozen=True, eq=False)
class InteractionMatrix:
    """The training interactions as matrices over ``subscribers`` x ``items``.

    ``history`` holds, per subscriber and item, the largest time-decayed weight of an interaction
    (``weight * 0.5 ** (age_days / half_life_days)``; 1 per purchase without decay), ``counts`` the
    time-decayed sum (how often), ``age_days`` one plus the age in days of the latest
    interaction, ``last_ts`` per item the last interaction (UTC, naive datetime64), ``category``
    per item (None when the data have no category) and ``names`` per item (or None).
    """

    subscribers: pd.Index
    items: pd.Index
    history: sparse.csr_matrix
    counts: sparse.csr_matrix
    age_days: sparse.csr_matrix
    last_ts: np.ndarray
    category: np.ndarray | None
    names: np.ndarray | None
    as_of: pd.Timestamp

    @property
    def binary(self) -> sparse.csr_matrix:
        """1 where a subscriber interacted with an item (float32)."""
        ones = self.history.copy()
        ones.data = np.ones_like(ones.data)
        return ones


def prepare(interactions: pd.DataFrame, as_of: object, *, half_life_days: float | None = None
            ) -> InteractionMatrix:
    """Build the :class:`InteractionMatrix` from the rows with ``ts <= as_of`` (later rows are
    dropped before anything else is computed, so no future event reaches a model)."""
    check_interactions(interactions)
    stamp = utc_timestamp(as_of)
    ts = _utc(interactions["ts"])
    past = (ts <= stamp).to_numpy()
    if not past.any():
        raise ValidationError(f"no interactions at or before as_of={stamp.isoformat()}; "
                              "choose a later as_of")
    frame = interactions.loc[past]
    ts = ts[past]
    weight = (pd.to_numeric(frame["weight"]).to_numpy(dtype=np.float64) if "weight" in frame.columns
              else np.ones(len(frame)))
    if half_life_days is not None:
        weight = weight * 0.5 ** (((stamp - ts).dt.total_seconds() / 86400.0).to_numpy() / half_life_days)
    user_codes, subscribers = factorize_str(frame["subscriber_id"])
    item_codes, items = factorize_str(frame["product_id"])
    shape = (len(subscribers), len(items))
    age_days = ((stamp - ts).dt.total_seconds() / 86400.0).to_numpy()
    cells = _per_cell(user_codes, item_codes, weight, age_days, shape)
    last = np.full(len(items), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, item_codes, ts.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64))
    return InteractionMatrix(
        subscribers=pd.Index(subscribers, name="subscriber_id"), items=pd.Index(items, name="product_id"),
        history=cells["history"], counts=cells["counts"], age_days=cells["age_days"],
        last_ts=last.view("datetime64[ns]"), category=_per_item(frame, "category", item_codes, len(items)),
        names=_per_item(frame, "name", item_codes, len(items)), as_of=stamp,
    )


def factorize_str(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values.astype(str), sort=True)`` without converting every row to a string:
    factorize the raw values, convert only the distinct ones, then merge those that print alike
    (``1`` and ``"1"``)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    as_text = pd.Index(uniques).astype(str)
    merged, labels = pd.factorize(as_text, sort=True)
    return merged[codes], pd.Index(labels)


def _per_cell(users: np.ndarray, items: np.ndarray, weight: np.ndarray, age_days: np.ndarray,
              shape: tuple[int, int]) -> dict[str, sparse.csr_matrix]:
    """Per subscriber x item: largest weight, summed weight and age of the latest interaction."""
    cell = users.astype(np.int64) * shape[1] + items
    order = np.argsort(cell, kind="stable")
    cell = cell[order]
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    rows, cols = np.divmod(cell[starts], shape[1])
    values = {
        "history": np.maximum.reduceat(weight[order], starts),
        "counts": np.add.reduceat(weight[order], starts),
        # +1 keeps an interaction at as_of (age 0) a stored entry
        "age_days": np.minimum.reduceat(age_days[order], starts) + 1.0,
    }
    return {key: sparse.csr_matrix((value.astype(np.float32), (rows, cols)), shape=shape)
            for key, value in values.items()}


def _per_item(frame: pd.DataFrame, column: str, item_codes: np.ndarray, n_items: int) -> np.ndarray | None:
    """The most frequent non-missing value of ``column`` per item (None if the column is absent)."""
    if column not in frame.columns:
        return None
    values = pd.DataFrame({"item": item_codes, "value": frame[column].astype("string").to_numpy()}).dropna()
    top = values.groupby(["item", "value"]).size().reset_index(name="n")
    top = top.sort_values(["item", "n", "value"], ascending=[True, False, True]).drop_duplicates("item")
    out = np.full(n_items, None, dtype=object)
    out[top["item"].to_numpy()] = top["value"].to_numpy()
    return out


def online_retail_interactions(lines: pd.DataFrame) -> pd.DataFrame:
    """Purchases from raw Online Retail invoice lines (:func:`segkit.datasets.online_retail`).

    Keeps lines with a customer, a positive quantity and price, not a cancellation (``InvoiceNo``
    starting with "C") and a product ``StockCode`` (starting with a digit: postage "POST",
    "DOT", manual "M", discounts "D", bank charges and fees are not products). ``ts`` is
    ``InvoiceDate`` read as UK time; ``weight`` is 1 per line (a repeat order counts again,
    quantity does not: one wholesale line of 1,000 is one purchase). No ``category``: the data
    have none, and none is invented.
    """
    keep = (
        lines["CustomerID"].notna()
        & (lines["Quantity"] > 0)
        & (lines["UnitPrice"] > 0)
        & ~lines["InvoiceNo"].astype(str).str.startswith("C")
        & lines["StockCode"].astype(str).str.match(r"^\d")
    )
    kept = lines.loc[keep]
    return pd.DataFrame({
        "subscriber_id": kept["CustomerID"].astype(str).str.replace(r"\.0$", "", regex=True).to_numpy(),
        "product_id": kept["StockCode"].astype(str).str.upper().to_numpy(),
        "ts": kept["InvoiceDate"].dt.tz_localize("Europe/London", ambiguous=False,
                                                 nonexistent="shift_forward").array,
        "weight": 1.0,
        "name": kept["Description"].astype("string").str.strip().to_numpy(),
    })
