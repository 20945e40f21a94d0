"""Recommendations as a send-ready table: only subscribers the consent gate lets through."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from segkit.consent import ConsentResult, eligible
from segkit.errors import InputError

__all__ = ["EVENT_WEIGHTS", "EXPORT_COLUMNS", "export_recommendations", "weight_events"]

#: Weight of one interaction by event type (a purchase says more than a look).
EVENT_WEIGHTS = {"purchase": 1.0, "cart_add": 0.5, "product_view": 0.25}

EXPORT_COLUMNS = ("subscriber_id", "rank", "product_id", "name", "score", "model")


def weight_events(interactions: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Add ``weight`` from ``event_type`` (:data:`EVENT_WEIGHTS` unless given); rows of other
    event types are dropped. A table without ``event_type`` is returned unchanged."""
    if "event_type" not in interactions.columns:
        return interactions
    table = EVENT_WEIGHTS if weights is None else weights
    kept = interactions.loc[interactions["event_type"].isin(list(table))]
    return kept.assign(weight=kept["event_type"].map(table).astype(float))


def export_recommendations(
    recs: pd.DataFrame,
    subscribers: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    suppressed: Iterable[str] = (),
) -> tuple[pd.DataFrame, ConsentResult]:
    """The rows of ``recs`` (a recommender's ``recommend`` output) whose subscriber may be emailed.

    Applies :func:`segkit.consent.eligible` (today's consent state) to every subscriber in
    ``recs``; returns the export (:data:`EXPORT_COLUMNS`, ``name`` only when the data have names)
    and the consent decision with exclusion reasons.
    """
    if "subscriber_id" not in recs.columns:
        raise InputError("recommendations need a subscriber_id column; pass a recommender's recommend() output")
    consent = eligible(recs["subscriber_id"], subscribers, events=events, suppressed=suppressed)
    columns = [c for c in EXPORT_COLUMNS if c in recs.columns]
    kept = recs.loc[recs["subscriber_id"].astype(str).isin(consent.eligible), columns]
    return kept.reset_index(drop=True), consent
