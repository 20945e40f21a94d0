"""Experiment analysis from aggregated totals: one row per arm (:func:`analyze_counts`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.stats._analyze import MetricsArg, block, finish
from segkit.stats._corrections import check_correction
from segkit.stats._input import arm_order, check_alpha, check_columns
from segkit.stats._metrics import Metric, parse_metrics
from segkit.stats._result import ExperimentResult
from segkit.stats._srm import SRM_THRESHOLD, srm_check

__all__ = ["analyze_counts"]


def analyze_counts(
    df: pd.DataFrame,
    arm: str = "arm",
    control: str = "control",
    metrics: MetricsArg | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    *,
    n: str = "n",
    allocation: Mapping[str, float] | None = None,
    primary: str | None = None,
    srm_threshold: float = SRM_THRESHOLD,
) -> ExperimentResult:
    """Compare arms from aggregated totals: one row per arm.

    The frame has the arm column, ``n`` (units per arm) and, per metric ``m``:

    * a proportion: column ``m`` holding the count of units with a success (clicks, conversions);
    * a continuous metric: columns ``m_mean`` and ``m_sd`` (per-unit mean and standard deviation
      with ddof=1, e.g. revenue per recipient).

    The kind is inferred from which columns exist, or declared with ``{"name": m, "kind": ...}``
    (``"column"`` renames the source column(s)). Ratio metrics and CUPED need per-unit data
    (:func:`analyze`). Tests and intervals are the same as :func:`analyze`'s; Mann-Whitney and the
    bootstrap are unavailable without unit data.
    """
    alpha = check_alpha(alpha)
    check_correction(correction)
    specs = [_aggregated_kind(m, df) for m in parse_metrics(metrics)]
    check_columns(df, [arm, n, *(c for m in specs for c in _aggregated_columns(m))], "totals")
    totals = _checked_totals(df, arm, n)
    treatments, _ = arm_order(totals[arm].astype(str), control, allocation)
    totals = totals.set_index(totals[arm].astype(str)).loc[[control, *treatments]]
    sizes = totals[n].astype(float).to_numpy()
    blocks = []
    for metric in specs:
        stats = _aggregated_stats(metric, totals, sizes)
        blocks.append(block(metric, treatments, sizes, stats, alpha))
    table = pd.concat(blocks, ignore_index=True)
    srm = srm_check(dict(zip([control, *treatments], sizes.astype(int), strict=True)), allocation,
                    threshold=srm_threshold)
    return finish(table, srm, control, treatments, alpha, correction, primary, [])


def _aggregated_kind(metric: Metric, df: pd.DataFrame) -> Metric:
    if metric.kind == "ratio" or metric.covariate is not None:
        raise ValidationError(
            f"metric {metric.name!r}: ratio metrics and CUPED need per-unit data (the delta "
            "method and the covariate adjustment use unit-level covariances); use analyze()"
        )
    if metric.kind is not None:
        return metric
    base = metric.value_column
    if base in df.columns:
        return Metric(**{**metric.__dict__, "kind": "proportion"})
    if f"{base}_mean" in df.columns and f"{base}_sd" in df.columns:
        return Metric(**{**metric.__dict__, "kind": "continuous"})
    raise ValidationError(
        f"metric {metric.name!r}: totals need column {base!r} (successes, for a proportion) or "
        f"{base + '_mean'!r} and {base + '_sd'!r} (continuous); columns present: "
        f"{', '.join(map(str, df.columns))}"
    )


def _aggregated_columns(metric: Metric) -> list[str]:
    base = metric.value_column
    return [base] if metric.kind == "proportion" else [f"{base}_mean", f"{base}_sd"]


def _checked_totals(df: pd.DataFrame, arm: str, n: str) -> pd.DataFrame:
    duplicated = df[arm][df[arm].duplicated()]
    if len(duplicated):
        raise ValidationError(f"totals must have one row per arm; repeated: {sorted(set(duplicated))}")
    sizes = df[n]
    if not pd.api.types.is_numeric_dtype(sizes):
        raise ValidationError(f"units column {n!r} is not numeric (dtype {sizes.dtype})")
    empty = df.loc[~(sizes > 0), arm]
    if len(empty):
        raise ValidationError(
            f"arm(s) {', '.join(map(repr, map(str, empty)))} have zero units in column {n!r}"
        )
    return df


def _aggregated_stats(metric: Metric, totals: pd.DataFrame, sizes: np.ndarray) -> dict:
    for column in _aggregated_columns(metric):
        if not pd.api.types.is_numeric_dtype(totals[column]) or totals[column].isna().any():
            raise ValidationError(
                f"metric {metric.name!r}: column {column!r} must be numeric without missing values"
                f" (dtype {totals[column].dtype})"
            )
    base = metric.value_column
    if metric.kind == "proportion":
        counts = totals[base].to_numpy(dtype=float)
        bad = (counts < 0) | (counts > sizes)
        if bad.any():
            arm = totals.index[bad][0]
            raise ValidationError(
                f"proportion metric {metric.name!r}: arm {arm!r} has {counts[bad][0]:g} successes "
                f"of {sizes[bad][0]:g} units, a rate outside [0, 1]"
            )
        return {"count": counts}
    sd = totals[f"{base}_sd"].to_numpy(dtype=float)
    if (sd < 0).any():
        raise ValidationError(f"metric {metric.name!r}: standard deviations must be >= 0")
    return {"mean": totals[f"{base}_mean"].to_numpy(dtype=float), "var": sd**2}
