"""Behavioural scores (0-100): engagement (exact per-event time decay when given the events)
and purchase intent (from the windowed feature table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.segments._decay import decayed_event_counts

__all__ = ["ENGAGEMENT_WEIGHTS", "INTENT_WEIGHTS", "engagement_score", "purchase_intent_score"]

#: Default engagement weights per event stem (clicks and purchases say more than opens).
ENGAGEMENT_WEIGHTS: dict[str, float] = {
    "human_opens": 1.0, "clicks": 3.0, "web_visits": 1.0, "product_views": 0.5,
    "cart_adds": 2.0, "purchase_count": 5.0,
}
#: Default purchase-intent weights (recent cart adds weigh most, then pricing-page visits).
INTENT_WEIGHTS: dict[str, float] = {
    "product_views": 1.0, "pricing_page_visits": 3.0, "cart_adds": 4.0, "cart_abandonments": 2.0,
}


def decayed_counts(
    features: pd.DataFrame, stem: str, windows: Sequence[int], half_life_days: float
) -> np.ndarray:
    """Approximate time-decayed count of ``stem`` events from nested window counts (used when
    only the feature table is available; :func:`engagement_score` with ``events=`` is exact).

    The windows (e.g. 30/90/365) split the past into bands (0, 30], (30, 90], (90, 365]; each
    band's count (difference of window counts) is weighted by ``0.5 ** (mid / half_life_days)``
    at the band's midpoint. An approximation of per-event exponential decay, exact when events
    sit at the band midpoints; events older than the longest window are ignored.
    """
    columns = [f"{stem}_{w}d" for w in windows]
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValidationError(f"score needs feature column(s) {', '.join(missing)}")
    totals = np.column_stack([features[c].to_numpy(dtype=float, na_value=0.0) for c in columns])
    bands = np.diff(totals, axis=1, prepend=0.0)
    edges = np.array([0, *windows], dtype=float)
    weights = 0.5 ** (((edges[:-1] + edges[1:]) / 2) / half_life_days)
    return bands @ weights


def _weighted_sum(
    features: pd.DataFrame, weights: Mapping[str, float], windows: Sequence[int],
    half_life_days: float, scale: float,
) -> np.ndarray:
    """``S = sum_s weight_s * decayed_count_s`` (before the 0-100 squashing)."""
    if half_life_days <= 0 or scale <= 0:
        raise ValidationError(f"half_life_days and scale must be > 0; got {half_life_days}, {scale}")
    windows = sorted(int(w) for w in windows)
    raw = sum(w * decayed_counts(features, stem, windows, half_life_days) for stem, w in weights.items())
    return np.asarray(raw, dtype=float)


def _squash(raw: np.ndarray, scale: float, index: pd.Index, name: str) -> pd.Series:
    return pd.Series(100.0 * (1.0 - np.exp(-raw / scale)), index=index, name=name)


def _exact_raw(
    features: pd.DataFrame, events: pd.DataFrame, as_of: object | None,
    weights: Mapping[str, float], half_life_days: float,
) -> np.ndarray:
    """``S`` from per-event decay (:func:`decayed_event_counts`), aligned on ``features``."""
    if as_of is None:
        as_of = features.attrs.get("as_of")
    if as_of is None:
        raise ValidationError("engagement_score with events= needs as_of= (or features.attrs['as_of'])")
    decayed = decayed_event_counts(events, as_of, half_life_days=half_life_days, stems=list(weights))
    decayed = decayed.reindex(features.index.astype(str), fill_value=0.0)
    return decayed.to_numpy() @ np.array([float(w) for w in weights.values()])


def engagement_score(
    features: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    as_of: object | None = None,
    weights: Mapping[str, float] = ENGAGEMENT_WEIGHTS,
    half_life_days: float = 30.0,
    scale: float = 10.0,
    windows: Sequence[int] = (30, 90, 365),
) -> pd.Series:
    """Engagement score 0-100: ``100 * (1 - exp(-S / scale))`` with
    ``S = sum_s weight_s * D_s`` over human opens, clicks, web visits, product views, cart adds
    and purchases (:data:`ENGAGEMENT_WEIGHTS`). 0 means no activity; the score reaches 63 when
    ``S == scale``. Usable in rules after ``features.assign(engagement_score=...)``.

    With ``events`` (the canonical events table) the decay is exact and per event:
    ``D_s = sum_i 0.5 ** (age_i / half_life_days)`` over the subscriber's ``s`` events with
    ``ts <= as_of`` (:func:`segkit.segments.decayed_event_counts`); ``as_of`` defaults to
    ``features.attrs["as_of"]`` (set by :func:`segkit.features.compute`). Default half-life:
    30 days (an open a month ago counts half, three months ago one eighth).

    Without ``events`` only the window counts of ``features`` are known, and ``D_s`` is the
    band approximation of :func:`decayed_counts` (each band's events placed at its midpoint;
    events older than the longest window dropped); kept for callers holding only a feature table.
    """
    if half_life_days <= 0 or scale <= 0:
        raise ValidationError(f"half_life_days and scale must be > 0; got {half_life_days}, {scale}")
    if events is None:
        raw = _weighted_sum(features, weights, windows, half_life_days, scale)
    else:
        raw = _exact_raw(features, events, as_of, weights, half_life_days)
    return _squash(raw, scale, features.index, "engagement_score")


def purchase_intent_score(
    features: pd.DataFrame,
    *,
    weights: Mapping[str, float] = INTENT_WEIGHTS,
    half_life_days: float = 7.0,
    scale: float = 5.0,
    purchase_half_life_days: float = 30.0,
    purchase_weight: float = 2.0,
    windows: Sequence[int] = (30, 90, 365),
) -> pd.Series:
    """Purchase-intent score 0-100 from decayed product views, pricing-page visits
    (``pricing_page_visits_{W}d``: web visits whose page/url mentions pricing, see
    :func:`segkit.features.compute`), cart adds and abandonments (:data:`INTENT_WEIGHTS`,
    half-life ``half_life_days``, band approximation of :func:`decayed_counts`) plus
    ``purchase_weight * 0.5 ** (days_since_last_purchase / purchase_half_life_days)`` (a recent
    buyer is likelier to buy again), through the same ``100 * (1 - exp(-S / scale))``.
    """
    raw = _weighted_sum(features, weights, windows, half_life_days, scale)
    if "days_since_last_purchase" not in features.columns:
        raise ValidationError("purchase intent needs feature column days_since_last_purchase")
    since = features["days_since_last_purchase"].to_numpy(dtype=float, na_value=np.nan)
    recency = np.nan_to_num(0.5 ** (since / purchase_half_life_days), nan=0.0)
    return _squash(raw + purchase_weight * recency, scale, features.index, "purchase_intent_score")
