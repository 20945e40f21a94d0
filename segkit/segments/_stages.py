"""Buyer stage, value potential and category affinity."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.segments._schemes import _labels, _require

__all__ = [
    "AFFINITY_WEIGHTS",
    "BUYER_STAGES",
    "VALUE_POTENTIALS",
    "buyer_stages",
    "category_affinity",
    "value_potential",
]

BUYER_STAGES = ("customer", "late", "mid", "early")
VALUE_POTENTIALS = ("high", "efficiency", "standard")
#: Event type -> weight in category affinity.
AFFINITY_WEIGHTS: dict[str, float] = {"product_view": 1.0, "click": 2.0, "cart_add": 3.0, "purchase": 5.0}


def buyer_stages(features: pd.DataFrame, *, window: int = 30, min_views: int = 3) -> pd.Series:
    """Buyer stage from web and purchase signals, first match wins:

    1. ``customer``: a purchase in the last 365 days (``purchase_count_365d >= 1``);
    2. ``late``: a cart add in the last ``window`` days;
    3. ``mid``: at least ``min_views`` product views in the last ``window`` days;
    4. ``early``: everyone else (browsing at most, or nothing yet).
    """
    columns = ["purchase_count_365d", f"cart_adds_{window}d", f"product_views_{window}d"]
    _require(features, columns, "buyer stages")
    values = [features[c].to_numpy(dtype=float, na_value=0.0) for c in columns]
    choices = [values[0] >= 1, values[1] >= 1, values[2] >= min_views]
    return _labels(choices, BUYER_STAGES, features.index, "buyer_stage")


def value_potential(
    clv: pd.Series, engagement: pd.Series, *, high_quantile: float = 0.8, low_engagement: float = 20.0
) -> pd.Series:
    """Value potential from predicted CLV (e.g. :mod:`segkit.clv`) and an engagement score (0-100):

    * ``high``: CLV at or above its ``high_quantile`` quantile;
    * ``efficiency``: CLV below the median and engagement below ``low_engagement`` (send less,
      cheaper channels);
    * ``standard``: everyone else. Subscribers without a CLV are standard.
    """
    if not 0 < high_quantile < 1:
        raise ValidationError(f"high_quantile must be in (0, 1); got {high_quantile}")
    if not clv.index.equals(engagement.index):
        engagement = engagement.reindex(clv.index)
    values = clv.to_numpy(dtype=float, na_value=np.nan)
    score = engagement.to_numpy(dtype=float, na_value=np.nan)
    high, median = np.nanquantile(values, [high_quantile, 0.5])
    with np.errstate(invalid="ignore"):
        choices = [values >= high, (values < median) & (score < low_engagement)]
    return _labels(choices, VALUE_POTENTIALS, clv.index, "value_potential")


def category_affinity(
    events: pd.DataFrame,
    as_of: object,
    *,
    top: int = 3,
    weights: Mapping[str, float] = AFFINITY_WEIGHTS,
    half_life_days: float = 90.0,
) -> pd.DataFrame:
    """Each subscriber's top ``top`` categories from ``properties.category`` of weighted events.

    Score per (subscriber, category) = sum over events with ``ts <= as_of`` of
    ``weights[event_type] * 0.5 ** (age_days / half_life_days)``; ``share`` is the score over the
    subscriber's total. Properties are JSON text (the ``category`` key is read with a regular
    expression, never evaluated) or mappings.

    Returns
    -------
    pandas.DataFrame
        ``subscriber_id``, ``rank`` (1 = strongest), ``category``, ``score``, ``share``.
    """
    stamp = utc_timestamp(as_of)
    ts = pd.to_datetime(events["ts"], utc=True)
    kept = events[events["event_type"].isin(list(weights)) & (ts <= stamp)]
    props = kept["properties"]
    if props.map(lambda p: isinstance(p, Mapping)).any():
        category = props.map(lambda p: p.get("category") if isinstance(p, Mapping) else None)
    else:
        category = props.astype("string").str.extract(r'"category"\s*:\s*"([^"]*)"', expand=False)
    age = (stamp - ts.loc[kept.index]).dt.total_seconds() / 86400
    frame = pd.DataFrame({
        "subscriber_id": kept["subscriber_id"], "category": category,
        "score": kept["event_type"].map(weights).astype(float) * 0.5 ** (age / half_life_days),
    }).dropna(subset=["category"])
    scores = frame.groupby(["subscriber_id", "category"], as_index=False)["score"].sum()
    scores["share"] = scores["score"] / scores.groupby("subscriber_id")["score"].transform("sum")
    scores = scores.sort_values(["subscriber_id", "score", "category"], ascending=[True, False, True])
    scores["rank"] = scores.groupby("subscriber_id").cumcount() + 1
    return scores[scores["rank"] <= top][["subscriber_id", "rank", "category", "score", "share"]].reset_index(drop=True)
