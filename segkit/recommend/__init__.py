"""Product recommendations: which items each subscriber should see, and how much better that is
than the obvious baselines on a time-split holdout.

Every model takes an interactions table (``subscriber_id``, ``product_id``, ``ts``; optional
``weight``, ``category``, ``name``), learns from the rows up to ``as_of`` only and returns the
top ``k`` items per subscriber with the model that produced each slot.
"""

from segkit.recommend._base import FALLBACK_MODEL, Recommender
from segkit.recommend._category import NEXT_CATEGORY, add_next_category, next_category
from segkit.recommend._data import REQUIRED_COLUMNS, check_interactions, online_retail_interactions
from segkit.recommend._evaluate import HoldoutResult, evaluate, holdout_metrics
from segkit.recommend._export import (
    EVENT_WEIGHTS,
    EXPORT_COLUMNS,
    export_recommendations,
    weight_events,
)
from segkit.recommend._models import EASE, BuyAgain, CategoryPopularity, Cooccurrence, Popularity

__all__ = [
    "BuyAgain",
    "CategoryPopularity",
    "Cooccurrence",
    "EASE",
    "EVENT_WEIGHTS",
    "EXPORT_COLUMNS",
    "FALLBACK_MODEL",
    "HoldoutResult",
    "NEXT_CATEGORY",
    "Popularity",
    "REQUIRED_COLUMNS",
    "Recommender",
    "add_next_category",
    "check_interactions",
    "evaluate",
    "export_recommendations",
    "holdout_metrics",
    "next_category",
    "online_retail_interactions",
    "weight_events",
]
