"""Next-best category per subscriber, from a fitted recommender's item list."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.recommend._base import Recommender

__all__ = ["next_category"]


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
