"""Per-row "top reasons" for a churn score, without SHAP.

* Logistic regression: the contribution of feature j to row i's log-odds is
  ``beta_j * z_ij``, where ``z_ij`` is the standardized (imputed) value and ``beta_j`` the fitted
  coefficient; a positive contribution pushes the row above the average subscriber's risk. This
  is the exact additive decomposition of the linear predictor around the training mean.
* Gradient boosting: per-row occlusion. Feature j's contribution is the drop in the calibrated
  churn probability when row i's value of j is replaced by the training median, i.e.
  ``p(x_i) - p(x_i with x_ij := median_j)`` (in probability points). It ignores interactions
  between features (one feature is moved at a time) and costs one prediction per feature.

The reasons are the ``n`` features with the largest positive contributions, formatted
``"name low (+value)"`` (``low``/``high``: the row's value against the training mean, for the
logistic model, or median, for boosting; ``missing`` when absent) and joined with ``"; "``; rows
without a positive contribution get ``""``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

__all__ = ["format_reasons", "linear_contributions", "occlusion_contributions"]

INDICATOR_PREFIX = "missingindicator_"


def linear_contributions(
    pipeline: Pipeline, matrix: pd.DataFrame
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``beta_j * z_ij`` for every column the logistic pipeline sees, the column names and the
    direction word per cell (missing-value indicators are named ``"<feature>"`` with direction
    ``"missing"``)."""
    *prep, (_, logistic) = pipeline.steps
    steps = Pipeline(prep)
    transformed = np.asarray(steps.transform(matrix))
    raw_names = [str(n) for n in steps.get_feature_names_out(list(matrix.columns))]
    directions = np.where(transformed < 0, "low", "high").astype(object)
    names = []
    for j, name in enumerate(raw_names):
        if name.startswith(INDICATOR_PREFIX):
            names.append(name.removeprefix(INDICATOR_PREFIX))
            directions[:, j] = np.where(transformed[:, j] > 0, "missing", "present")
        else:
            names.append(name)
    return transformed * logistic.coef_[0], names, directions


def occlusion_contributions(
    predict: Callable[[pd.DataFrame], np.ndarray], matrix: pd.DataFrame, medians: pd.Series
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``p(x_i) - p(x_i with column j set to its training median)`` for every column j, the
    column names and the direction of each value against the median."""
    base = predict(matrix)
    out = np.zeros(matrix.shape, dtype=float)
    for j, name in enumerate(matrix.columns):
        moved = matrix.copy()
        moved[name] = medians[name]
        out[:, j] = base - predict(moved)
    values = matrix.to_numpy(float)
    centre = medians[matrix.columns].to_numpy(float)
    directions = np.where(values < centre, "low", "high").astype(object)
    directions[np.isnan(values)] = "missing"
    return out, [str(c) for c in matrix.columns], directions


def format_reasons(
    contributions: np.ndarray, names: Sequence[str], directions: np.ndarray, n: int
) -> list[str]:
    """The ``n`` largest positive contributions per row as ``"name direction (+value)"``, joined
    by ``"; "``."""
    if contributions.shape[1] == 0:
        return [""] * contributions.shape[0]
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :n]
    top = np.take_along_axis(contributions, order, axis=1)
    words = np.take_along_axis(directions, order, axis=1)
    rows = []
    for idx, vals, dirs in zip(order, top, words, strict=True):
        parts = [
            f"{names[j]} {d} ({v:+.3g})" for j, v, d in zip(idx, vals, dirs, strict=True) if v > 0
        ]
        rows.append("; ".join(parts))
    return rows
