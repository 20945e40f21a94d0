"""Line up feature rows with churn labels by ``subscriber_id``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segkit.errors import ValidationError

__all__ = ["align_labels", "by_subscriber"]


def align_labels(features: pd.DataFrame, labels: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """The feature rows of the labelled subscribers and their 0/1 churn outcome.

    ``labels`` is :func:`churn_labels` output (``subscriber_id``, ``churned``; rows with a missing
    ``churned`` are outside the population and skipped) or a boolean Series indexed by
    ``subscriber_id``. ``features`` is indexed by ``subscriber_id`` (or has that column).
    """
    table = by_subscriber(features, "features")
    if isinstance(labels, pd.DataFrame):
        if "churned" not in labels.columns:
            raise ValidationError(
                f"labels must have a 'churned' column (see churn_labels); it has: {', '.join(map(str, labels.columns))}"
            )
        series = by_subscriber(labels, "labels")["churned"]
    elif isinstance(labels, pd.Series):
        series = labels
    else:
        raise ValidationError(
            f"labels must be the churn_labels DataFrame or a Series indexed by subscriber_id, got {type(labels).__name__}"
        )
    series = series.astype("boolean")
    series = series[series.notna()]
    if series.index.has_duplicates:
        dupes = series.index[series.index.duplicated()].unique()[:5].tolist()
        raise ValidationError(f"labels have duplicated subscriber_id values: {dupes}")
    missing = series.index.difference(table.index)
    if len(missing):
        raise ValidationError(
            f"{len(missing)} labelled subscriber(s) have no feature row, e.g. {missing[:5].tolist()}; "
            "compute features and labels at the same as_of from the same events"
        )
    return table.loc[series.index], series.to_numpy(dtype=bool).astype(int)


def by_subscriber(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    if "subscriber_id" in frame.columns:
        frame = frame.set_index("subscriber_id")
    elif frame.index.name != "subscriber_id":
        raise ValidationError(
            f"{name} must be indexed by subscriber_id or have a subscriber_id column"
        )
    return frame
