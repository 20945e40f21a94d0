"""Features for churn models: :func:`segkit.features.compute` as of the cutoff, nothing after it.

The feature table is reused as is (one row per subscriber known at ``as_of``); this module picks the
columns a model may use and checks them, so that a bad column is named before any fitting starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from segkit._config import DEFAULT_WINDOWS_DAYS
from segkit.errors import ValidationError
from segkit.features import compute

__all__ = ["churn_features", "default_feature_columns", "feature_matrix", "unusable_columns"]

#: Columns of the feature table never used as model inputs by default: the 31 local-time
#: opening-slot counts (sparse, mostly send-time signal) and the categorical status columns.
EXCLUDED_PREFIXES = ("opens_hour_", "opens_weekday_")
EXCLUDED_COLUMNS = ("consent", "timezone")


def churn_features(
    events: pd.DataFrame,
    as_of: object,
    *,
    subscribers: pd.DataFrame | None = None,
    windows: Iterable[int] = DEFAULT_WINDOWS_DAYS,
) -> pd.DataFrame:
    """The feature table as of ``as_of`` from events ``<= as_of`` only.

    A thin wrapper over :func:`segkit.features.compute` (same columns, index ``subscriber_id``,
    same conventions: windows ``(as_of - W days, as_of]``, human opens exclude machine opens).
    Nothing after ``as_of`` is read, so appending later events cannot change the result.
    """
    source = {"events": events}
    if subscribers is not None:
        source["subscribers"] = subscribers
    return compute(source, as_of, windows=windows)


def default_feature_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric and boolean columns of ``frame`` a churn model uses when ``features`` is None."""
    columns = []
    for name in frame.columns:
        text = str(name)
        if text in EXCLUDED_COLUMNS or text.startswith(EXCLUDED_PREFIXES):
            continue
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            columns.append(text)
    return columns


def feature_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame[columns]`` as float64 (booleans as 0/1, missing as NaN), naming absent or
    non-numeric columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"feature column(s) missing from the feature table: {', '.join(missing)}; it has: "
            f"{', '.join(map(str, frame.columns[:20]))}{' ...' if frame.shape[1] > 20 else ''}"
        )
    values = {}
    bad = []
    for name in columns:
        series = frame[name]
        if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
            values[name] = series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            bad.append(f"{name} ({series.dtype})")
    if bad:
        raise ValidationError(f"feature column(s) must be numeric or boolean: {', '.join(bad)}")
    return pd.DataFrame(values, index=frame.index, columns=list(columns))


def unusable_columns(matrix: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(all-missing columns, constant columns) of a float feature matrix."""
    values = matrix.to_numpy(float)
    present = ~np.isnan(values)
    all_missing = [c for c, ok in zip(matrix.columns, present.any(axis=0), strict=True) if not ok]
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(np.where(present, values, -np.inf), axis=0) - np.nanmin(
            np.where(present, values, np.inf), axis=0
        )
    # A column with some values and some NaN is not constant: missingness itself is informative.
    constant = [
        c
        for c, s, has, full in zip(
            matrix.columns, spread, present.any(axis=0), present.all(axis=0), strict=True
        )
        if has and full and s == 0
    ]
    return all_missing, constant
