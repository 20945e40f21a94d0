"""Reshape long (subscriber, key, value) query results into per-subscriber columns with numpy.

The database returns compact long tables; spreading them here costs one hash lookup per long row
and a ``bincount``, far less than one filtered aggregate per output column in SQL.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cumulative", "spread"]


def spread(
    rows: np.ndarray, keys: np.ndarray, n_keys: int, n_rows: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Sum ``weights`` (or count) into an ``(n_keys, n_rows)`` array at ``(keys, rows)``.

    Key-major, so each key's column of values is one contiguous array.
    """
    flat = keys.astype(np.int64) * n_rows + rows.astype(np.int64)
    summed = np.bincount(flat, weights=weights, minlength=n_rows * n_keys)
    return summed.reshape(n_keys, n_rows)


def cumulative(by_bucket: np.ndarray, n_windows: int) -> np.ndarray:
    """Per-window totals ``(n_windows, n_rows)`` from per-bucket totals: window ``i`` holds
    buckets ``0..i``."""
    return np.cumsum(by_bucket, axis=0)[:n_windows]
