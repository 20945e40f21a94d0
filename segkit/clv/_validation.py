"""Input checks and compression to sufficient statistics for the CLV models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit.errors import InputError, ValidationError

#: recency may exceed T by this relative amount (float rounding of unit conversions) and is clipped.
RECENCY_TOLERANCE = 1e-9
FEATURE_COLUMNS = ("frequency", "recency", "T")
TIME_UNITS = ("D", "W")


def _as_float(values: Any, name: str) -> np.ndarray:
    """A 1-D float array, or a ValidationError naming the argument."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be numeric: {exc}") from None
    if array.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _fail_where(mask: np.ndarray, message: str, columns: dict[str, np.ndarray]) -> None:
    """Raise a ValidationError with the offending count and the first offending row."""
    if not mask.any():
        return
    row = int(np.flatnonzero(mask)[0])
    example = ", ".join(f"{name}={values[row]:g}" for name, values in columns.items())
    raise ValidationError(f"{message}: {int(mask.sum())} rows, e.g. row {row} ({example})")


def check_time_unit(unit: str | None) -> str | None:
    """Accept None (unknown) or one of ``TIME_UNITS``."""
    if unit is not None and unit not in TIME_UNITS:
        raise ValidationError(f"unknown time unit {unit!r}; valid: {', '.join(TIME_UNITS)}")
    return unit


def check_weights(weights: Any, n: int) -> np.ndarray:
    """Non-negative finite weights (customer counts) of length ``n``; ones when None."""
    if weights is None:
        return np.ones(n)
    w = _as_float(weights, "weights")
    if len(w) != n:
        raise ValidationError(f"weights has {len(w)} values but the data have {n} rows")
    _fail_where(~np.isfinite(w) | (w < 0), "weights must be finite and >= 0", {"weights": w})
    if w.sum() <= 0:
        raise ValidationError("weights sum to zero: nothing to fit")
    return w


def check_rfm(
    frequency: Any, recency: Any, T: Any, weights: Any = None, *, require_repeat: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate repeat-purchase data and return float arrays ``(x, t_x, T, weights)``.

    Rules: equal lengths, at least one row, finite, ``frequency`` a non-negative integer,
    ``0 <= recency <= T``, ``T >= 0``, ``recency == 0`` when ``frequency == 0``, and at least one
    customer with a repeat purchase (when ``require_repeat``; predictions do not need one).
    ``T == 0`` (first purchase on the last day of the period, as
    :func:`segkit.features.calibration_holdout` returns for a first purchase on the cutoff day)
    is accepted, as lifetimes does: with ``x = t_x = T = 0`` the likelihood is 1 (the row adds
    nothing to the fit), P(alive) is 1 and the forecast is that of a new customer.
    """
    x, tx, age = (_as_float(v, n) for v, n in ((frequency, "frequency"), (recency, "recency"), (T, "T")))
    if not len(x) == len(tx) == len(age):
        raise ValidationError(
            f"frequency, recency and T must have the same length, got {len(x)}, {len(tx)}, {len(age)}"
        )
    if len(x) == 0:
        raise InputError("no customers to fit: frequency, recency and T are empty")
    cols = {"frequency": x, "recency": tx, "T": age}
    _fail_where(~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(age)), "values must be finite (no NaN/inf)", cols)
    _fail_where(x < 0, "frequency must be >= 0", cols)
    _fail_where(x != np.round(x), "frequency must be a whole number of repeat purchases", cols)
    _fail_where(tx < 0, "recency must be >= 0", cols)
    _fail_where(age < 0, "T (customer age) must be >= 0", cols)
    _fail_where(tx > age * (1 + RECENCY_TOLERANCE), "recency must be <= T", cols)
    _fail_where((x == 0) & (tx != 0), "recency must be 0 when frequency is 0", cols)
    w = check_weights(weights, len(x))
    if require_repeat and not (w[x > 0] > 0).any():
        raise ValidationError(
            "no customer made a repeat purchase (all frequency == 0): purchase and dropout rates "
            "cannot be estimated; use a longer calibration period"
        )
    return x, np.minimum(tx, age), age, w


@dataclass(frozen=True)
class Compressed:
    """Unique rows of the sufficient statistics with their total weights."""

    columns: tuple[np.ndarray, ...]
    weights: np.ndarray
    inverse: np.ndarray

    @property
    def n_unique(self) -> int:
        return len(self.weights)


def compress(*columns: np.ndarray, weights: np.ndarray) -> Compressed:
    """Group identical rows of ``columns`` and sum their ``weights``.

    Hash-based (``pandas.factorize`` per column, then on the combined codes): O(n), about ten times
    faster than sorting for a million rows. The likelihoods depend on a customer only through these
    columns, so fitting on the unique rows with counts gives the same estimates as fitting on every
    customer.
    """
    key = np.zeros(len(columns[0]), dtype=np.int64)
    size = 1
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        if size * len(uniques) >= 2**62:  # re-number before the combined code could overflow
            key, firsts = _factorize_with_first(key)
            size = len(firsts)
        key, size = key * len(uniques) + codes, size * len(uniques)
    key, firsts = _factorize_with_first(key)
    unique = tuple(np.asarray(c)[firsts] for c in columns)
    return Compressed(unique, np.bincount(key, weights=weights, minlength=len(firsts)), key)


def _factorize_with_first(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..k-1 in order of first appearance, and the row of each code's first appearance."""
    codes, _ = pd.factorize(values)
    # factorize numbers codes by first appearance, so a first appearance is a new running maximum
    running_max = np.maximum.accumulate(codes)
    is_first = np.empty(len(codes), dtype=bool)
    is_first[:1] = True
    is_first[1:] = running_max[1:] > running_max[:-1]
    return codes, np.flatnonzero(is_first)


def feature_columns(df: pd.DataFrame, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Pull the named columns from a feature table, listing every missing one."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame feature table, got {type(df).__name__}")
    missing = sorted(set(required) - set(df.columns))
    if missing:
        raise InputError(
            f"feature table lacks column(s) {', '.join(missing)}; need {', '.join(required)} "
            f"(have: {', '.join(map(str, df.columns))})"
        )
    return {name: df[name].to_numpy(dtype=float, na_value=np.nan) for name in required}


def rfm_unit(df: pd.DataFrame) -> str | None:
    """The time unit of a feature table's ``recency`` and ``T``: ``attrs["rfm_unit"]``
    (:func:`segkit.features.compute`) or ``attrs["unit"]`` (:func:`segkit.features.rfm`)."""
    return df.attrs.get("rfm_unit", df.attrs.get("unit"))


def wrap_like(values: np.ndarray, *likes: Any, name: str | None = None) -> np.ndarray | pd.Series:
    """Return a Series with the index of the first pandas input, else the array."""
    for like in likes:
        if isinstance(like, pd.Series | pd.DataFrame) and len(like) == len(values):
            return pd.Series(values, index=like.index, name=name)
    return values
