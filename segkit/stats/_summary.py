"""Each arm's summary statistics for a metric, from per-unit rows or from warehouse aggregates.

Both entry points reduce every metric to the same per-arm dictionaries, so :func:`analyze` (units)
and :func:`analyze_counts` (sums) run the same tests:

* proportion: ``{"n", "count"}``;
* continuous (CUPED-adjusted when a covariate is given): ``{"n", "mean", "var"}`` with the
  per-unit variance (ddof=1);
* ratio: ``{"n", "mean", "var"}`` with the ratio of sums and the delta-method variance of that
  ratio (Deng, Knoblich & Lu 2018, equation (4)).

Aggregates are sums over each arm's units: ``X_sum`` and ``X_sum_sq`` per column X and
``X_Y_sum_prod`` (the sum of X times Y) for a ratio's numerator and denominator or a CUPED
metric and its covariate, which is all a ``GROUP BY arm`` query has to return.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.stats import _ratio
from segkit.stats._cuped import cuped_theta
from segkit.stats._metrics import Metric

__all__: list[str] = []


def unit_stats(metric: Metric, frame: pd.DataFrame, positions: dict[str, np.ndarray]
               ) -> tuple[dict[str, dict], list[str]]:
    """Per-arm statistics of one metric from per-unit rows (kind already resolved)."""
    if metric.kind == "ratio":
        num = frame[metric.numerator].to_numpy(dtype=float)
        den = frame[metric.denominator].to_numpy(dtype=float)
        out = {}
        for arm, idx in positions.items():
            ratio, variance = _ratio.ratio_estimate(num[idx], den[idx])
            out[arm] = {"n": float(len(idx)), "mean": ratio, "var": variance}
        return out, []
    values = frame[metric.value_column].to_numpy(dtype=float)
    notes = []
    if metric.covariate is not None:
        covariate = frame[metric.covariate].to_numpy(dtype=float)
        theta = cuped_theta(values, covariate)
        values = values - theta * (covariate - covariate.mean())
        notes.append(f"{metric.name} is CUPED-adjusted for {metric.covariate!r} (theta = "
                     f"{theta:.4g}); its means are the adjusted means.")
    if metric.kind == "proportion":
        return {a: {"n": float(len(i)), "count": float(values[i].sum())}
                for a, i in positions.items()}, notes
    return {a: {"n": float(len(i)), "mean": float(values[i].mean()) if len(i) else np.nan,
                "var": float(values[i].var(ddof=1)) if len(i) > 1 else np.nan}
            for a, i in positions.items()}, notes


def aggregate_columns(metric: Metric, present: pd.Index | None = None) -> list[str]:
    """The aggregate columns a metric reads (kind already decided); a continuous metric reads
    ``X_mean`` and ``X_sd`` unless only ``X_sum`` and ``X_sum_sq`` are ``present``."""
    base = metric.value_column
    if metric.kind == "proportion":
        return [base]
    if metric.kind == "ratio":
        x, y = str(metric.numerator), str(metric.denominator)
        return [f"{x}_sum", f"{x}_sum_sq", f"{y}_sum", f"{y}_sum_sq", f"{x}_{y}_sum_prod"]
    if metric.covariate is not None:
        x = metric.covariate
        return [f"{base}_sum", f"{base}_sum_sq", f"{x}_sum", f"{x}_sum_sq",
                f"{base}_{x}_sum_prod"]
    if present is not None and f"{base}_mean" not in present and f"{base}_sum" in present:
        return [f"{base}_sum", f"{base}_sum_sq"]
    return [f"{base}_mean", f"{base}_sd"]


def _moments(totals: pd.DataFrame, sizes: np.ndarray, x: str, y: str | None = None):
    """Means, variances (and covariance) per arm from sums, sums of squares and products."""
    sx, sxx = totals[f"{x}_sum"].to_numpy(float), totals[f"{x}_sum_sq"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_x = sx / sizes
        var_x = (sxx - sx * mean_x) / (sizes - 1)
        if y is None:
            return mean_x, var_x
        sy, syy = totals[f"{y}_sum"].to_numpy(float), totals[f"{y}_sum_sq"].to_numpy(float)
        sxy = totals[f"{x}_{y}_sum_prod"].to_numpy(float)
        mean_y = sy / sizes
        var_y = (syy - sy * mean_y) / (sizes - 1)
        cov = (sxy - sx * mean_y) / (sizes - 1)
    return mean_x, var_x, mean_y, var_y, cov


def aggregate_stats(metric: Metric, totals: pd.DataFrame, sizes: np.ndarray) -> tuple[dict, list[str]]:
    """Per-arm statistics of one metric from one aggregate row per arm (index: arm labels)."""
    arms = [str(a) for a in totals.index]
    _check_aggregates(metric, totals)
    columns = aggregate_columns(metric, totals.columns)
    if metric.kind == "proportion":
        counts = totals[metric.value_column].to_numpy(dtype=float)
        _check_counts(metric, arms, counts, sizes)
        return {a: {"n": n, "count": c} for a, n, c in zip(arms, sizes, counts, strict=True)}, []
    if metric.kind == "ratio":
        mx, vx, my, vy, cov = _moments(totals, sizes, str(metric.numerator),
                                       str(metric.denominator))
        _check_variances(metric, arms, vx, vy)
        ratio, variance = _ratio.ratio_from_moments(sizes, mx, my, vx, vy, cov)
        return {a: {"n": n, "mean": r, "var": v}
                for a, n, r, v in zip(arms, sizes, ratio, variance, strict=True)}, []
    if metric.covariate is None and columns[0].endswith("_sum"):
        mean, var = _moments(totals, sizes, metric.value_column)
        _check_variances(metric, arms, var)
        return {a: {"n": n, "mean": m, "var": max(v, 0.0)}
                for a, n, m, v in zip(arms, sizes, mean, var, strict=True)}, []
    if metric.covariate is None:
        mean = totals[f"{metric.value_column}_mean"].to_numpy(dtype=float)
        sd = totals[f"{metric.value_column}_sd"].to_numpy(dtype=float)
        _check_variances(metric, arms, sd)
        return {a: {"n": n, "mean": m, "var": s**2}
                for a, n, m, s in zip(arms, sizes, mean, sd, strict=True)}, []
    return _cuped_stats(metric, totals, sizes, arms)


def _cuped_stats(metric: Metric, totals: pd.DataFrame, sizes: np.ndarray, arms: list[str]):
    """CUPED from sums: theta from the pooled (all-arm) moments, as :func:`cuped_theta` on units."""
    y, x = metric.value_column, str(metric.covariate)
    my, vy, mx, vx, cov = _moments(totals, sizes, y, x)
    _check_variances(metric, arms, vy, vx)
    n_all = sizes.sum()
    sums = {c: totals[c].to_numpy(float).sum() for c in aggregate_columns(metric)}
    pooled_var_x = (sums[f"{x}_sum_sq"] - sums[f"{x}_sum"] ** 2 / n_all) / (n_all - 1)
    pooled_cov = (sums[f"{y}_{x}_sum_prod"] - sums[f"{y}_sum"] * sums[f"{x}_sum"] / n_all) / (n_all - 1)
    if not pooled_var_x > 0:
        raise ValidationError("the CUPED covariate is constant, so it cannot reduce variance")
    theta = pooled_cov / pooled_var_x
    grand_x = sums[f"{x}_sum"] / n_all
    mean = my - theta * (mx - grand_x)
    var = vy + theta**2 * vx - 2 * theta * cov
    note = (f"{metric.name} is CUPED-adjusted for {x!r} (theta = {theta:.4g}); its means are the "
            "adjusted means.")
    return {a: {"n": n, "mean": m, "var": max(v, 0.0)}
            for a, n, m, v in zip(arms, sizes, mean, var, strict=True)}, [note]


def _check_aggregates(metric: Metric, totals: pd.DataFrame) -> None:
    for column in aggregate_columns(metric, totals.columns):
        values = totals[column]
        if not pd.api.types.is_numeric_dtype(values) or values.isna().any() or \
                not np.isfinite(values.to_numpy(dtype=float)).all():
            raise ValidationError(
                f"metric {metric.name!r}: column {column!r} must be numeric and finite without "
                f"missing values (dtype {values.dtype})")


def _check_counts(metric: Metric, arms: list[str], counts: np.ndarray, sizes: np.ndarray) -> None:
    bad = (counts < 0) | (counts > sizes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"proportion metric {metric.name!r}: arm {arms[i]!r} has {counts[i]:g} successes "
            f"of {sizes[i]:g} units, a rate outside [0, 1]")
    fractional = counts != np.round(counts)
    if fractional.any():
        i = int(np.flatnonzero(fractional)[0])
        raise ValidationError(
            f"proportion metric {metric.name!r}: arm {arms[i]!r} has {counts[i]:g} successes; "
            "a count of units must be a whole number")


def _check_variances(metric: Metric, arms: list[str], *variances: np.ndarray) -> None:
    for var in variances:
        bad = var < -1e-9 * np.maximum(1.0, np.abs(var))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(
                f"metric {metric.name!r}: arm {arms[i]!r} has a negative variance ({var[i]:.3g}); "
                "the sums of squares do not fit the sums (or a standard deviation is negative)")
