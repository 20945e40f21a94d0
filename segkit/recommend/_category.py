"""Next-best category per subscriber, from a fitted recommender's item list."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.recommend._base import Recommender

__all__ = ["NEXT_CATEGORY", "add_next_category", "next_category"]

#: the feature column segment rules read (``next_category == "kitchen"``)
NEXT_CATEGORY = "next_category"


def next_category(model: Recommender, subscribers: Any = None, *, depth: int = 20) -> pd.DataFrame:
    """The category each subscriber should see next: ``subscriber_id``, ``next_category``,
    ``score`` and ``model``.

    The model's top ``depth`` items are grouped by category with reciprocal-rank weights
    (``sum 1 / rank``); the category with the largest sum wins (ties: alphabetical). ``model``
    says which model produced the winning category's best item (``"popularity"`` for cold-start
    subscribers). Needs a ``category`` column in the training interactions: without one there
    is no category to name, and this raises instead of inventing one.
    """
    model._check_fitted()
    if model.data_.category is None:
        raise ValidationError("next_category needs a category column in the interactions; these data "
                              "have none, so there is no category to recommend")
    recs = model.recommend(subscribers, k=depth)
    category = pd.Series(model.data_.category, index=model.data_.items)
    recs = recs.assign(category=category.reindex(recs["product_id"]).fillna("(none)").to_numpy(),
                       weight=1.0 / recs["rank"].to_numpy(dtype=float))
    totals = recs.groupby(["subscriber_id", "category"], sort=False).agg(
        score=("weight", "sum"), best_rank=("rank", "min")).reset_index()
    totals = totals.sort_values(["subscriber_id", "score", "category"], ascending=[True, False, True])
    winners = totals.drop_duplicates("subscriber_id")
    best = recs.merge(winners[["subscriber_id", "best_rank"]], left_on=["subscriber_id", "rank"],
                      right_on=["subscriber_id", "best_rank"])
    producer = best.set_index("subscriber_id")["model"]
    return pd.DataFrame({
        "subscriber_id": winners["subscriber_id"].to_numpy(),
        "next_category": winners["category"].to_numpy(),
        "score": np.round(winners["score"].to_numpy(), 12),
        "model": producer.reindex(winners["subscriber_id"]).to_numpy(),
    })


def add_next_category(features: pd.DataFrame, interactions: pd.DataFrame, *, model: Recommender | None = None,
                      depth: int = 20) -> pd.DataFrame:
    """``features`` (a :func:`segkit.features.compute` table, indexed by ``subscriber_id``) with a
    ``next_category`` text column, so segment rules can read it (``next_category == "kitchen"``).

    ``model`` (default :class:`~segkit.recommend.EASE`, unfitted) is fitted on the
    ``interactions`` up to the table's ``as_of`` (``features.attrs["as_of"]``: no later event
    reaches the column) and :func:`next_category` names each subscriber's category; subscribers
    without product history get the category of the popularity list. Needs a ``category`` column
    in the interactions (product events with ``properties.category``, or order lines ingested with
    ``--map category=COLUMN``); without one this raises instead of inventing categories.
    """
    from segkit.recommend._models import EASE

    if "as_of" not in features.attrs:
        raise ValidationError("the feature table has no attrs['as_of']; build it with segkit.features.compute")
    if "category" not in interactions.columns:
        raise ValidationError(f"{NEXT_CATEGORY} needs a category column in the product interactions; these data "
                              "have none (ingest product events with properties.category, or order lines with "
                              "--map category=COLUMN)")
    fitted = (EASE() if model is None else model).fit(interactions, utc_timestamp(features.attrs["as_of"]))
    ids = pd.Index(features.index.astype(str))
    categories = next_category(fitted, ids, depth=depth).set_index("subscriber_id")[NEXT_CATEGORY]
    out = features.copy()
    out[NEXT_CATEGORY] = pd.array(categories.reindex(ids).to_numpy(), dtype="string")
    return out
