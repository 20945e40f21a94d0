"""Experiment analysis from summary statistics: one row per arm (:func:`analyze_counts`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.stats._analyze import MetricsArg, block, finish
from segkit.stats._compare import ALTERNATIVES, SCALES
from segkit.stats._corrections import check_correction
from segkit.stats._input import arm_order, check_alpha, check_choice, check_columns
from segkit.stats._metrics import Metric, parse_metrics
from segkit.stats._result import ExperimentResult
from segkit.stats._srm import SRM_THRESHOLD, srm_check
from segkit.stats._summary import aggregate_columns, aggregate_stats

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
    scale: str = "relative",
    alternative: str = "two-sided",
    allocation: Mapping[str, float] | None = None,
    primary: str | None = None,
    srm_threshold: float = SRM_THRESHOLD,
) -> ExperimentResult:
    """Compare arms from summary statistics: one row per arm, as a warehouse ``GROUP BY arm``
    returns them. Same tests, intervals, scale and alternative as :func:`analyze`.

    The frame has the arm column, ``n`` (units per arm, a whole number) and, per metric ``m``:

    * a proportion: column ``m`` holding the count of units with a success (clicks, conversions);
    * a continuous metric: ``m_mean`` and ``m_sd`` (per-unit mean and standard deviation with
      ddof=1), or ``m_sum`` and ``m_sum_sq`` (sum and sum of squares over the arm's units);
    * a ratio metric ``{"name": ..., "kind": "ratio", "numerator": "x", "denominator": "y"}``:
      ``x_sum, x_sum_sq, y_sum, y_sum_sq`` and ``x_y_sum_prod`` (the sum of x times y per unit);
    * a CUPED metric ``{"name": "m", "covariate": "x"}``: ``m_sum, m_sum_sq, x_sum, x_sum_sq`` and
      ``m_x_sum_prod``; theta comes from the arms' pooled moments, exactly as :func:`analyze`
      computes it from units.

    The kind is inferred from which columns exist (``m`` -> proportion; ``m_mean``/``m_sd`` or
    ``m_sum``/``m_sum_sq`` -> continuous), or declared with ``{"name": m, "kind": ...}``
    (``"column"`` renames the source column(s)). Mann-Whitney and the bootstrap need unit data.
    """
    alpha = check_alpha(alpha)
    check_correction(correction)
    check_choice(scale, SCALES, "scale")
    check_choice(alternative, ALTERNATIVES, "alternative")
    control = str(control)
    specs = [_aggregated_kind(m, df) for m in parse_metrics(metrics)]
    check_columns(df, [arm, n, *(c for m in specs for c in aggregate_columns(m, df.columns))],
                  "totals")
    totals = _checked_totals(df, arm, n)
    treatments, _ = arm_order(totals[arm].astype(str), control, allocation)
    totals = totals.set_index(totals[arm].astype(str)).loc[[control, *treatments]]
    sizes = totals[n].astype(float).to_numpy()
    blocks, states, notes = [], [], []
    for metric in specs:
        arm_stats, note = aggregate_stats(metric, totals, sizes)
        table, state = block(metric, control, treatments, arm_stats, alpha, alternative)
        blocks.append(table)
        states.extend(state)
        notes.extend(note)
    table = pd.concat(blocks, ignore_index=True)
    srm = srm_check(dict(zip([control, *treatments], sizes.astype(int), strict=True)), allocation,
                    threshold=srm_threshold)
    return finish(table, states, srm, control, treatments, alpha, correction, primary, notes,
                  scale=scale, alternative=alternative)


def _aggregated_kind(metric: Metric, df: pd.DataFrame) -> Metric:
    if metric.kind is not None:
        return metric
    if metric.covariate is not None:
        return replace(metric, kind="continuous")
    base = metric.value_column
    if base in df.columns:
        return replace(metric, kind="proportion")
    if {f"{base}_mean", f"{base}_sd"} <= set(df.columns) or \
            {f"{base}_sum", f"{base}_sum_sq"} <= set(df.columns):
        return replace(metric, kind="continuous")
    raise ValidationError(
        f"metric {metric.name!r}: totals need column {base!r} (successes, for a proportion), "
        f"{base + '_mean'!r} and {base + '_sd'!r}, or {base + '_sum'!r} and {base + '_sum_sq'!r} "
        f"(continuous); columns present: {', '.join(map(str, df.columns))}"
    )


def _checked_totals(df: pd.DataFrame, arm: str, n: str) -> pd.DataFrame:
    duplicated = df[arm][df[arm].duplicated()]
    if len(duplicated):
        raise ValidationError(f"totals must have one row per arm; repeated: {sorted(set(duplicated))}")
    sizes = df[n]
    if not pd.api.types.is_numeric_dtype(sizes) or sizes.isna().any():
        raise ValidationError(f"units column {n!r} must be numeric without missing values "
                              f"(dtype {sizes.dtype})")
    empty = df.loc[~(sizes > 0), arm]
    if len(empty):
        raise ValidationError(
            f"arm(s) {', '.join(map(repr, map(str, empty)))} have zero units in column {n!r}"
        )
    values = sizes.to_numpy(dtype=float)
    fractional = ~np.isfinite(values) | (values != np.round(values))
    if fractional.any():
        i = int(np.flatnonzero(fractional)[0])
        raise ValidationError(
            f"units column {n!r}: arm {str(df[arm].iloc[i])!r} has {values[i]:g} units; a number "
            "of units must be a whole number")
    return df
