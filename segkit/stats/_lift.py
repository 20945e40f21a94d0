"""Shared pieces of every two-arm comparison: the relative lift and normal intervals."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__: list[str] = []


def normal_quantile(alpha: float) -> float:
    """The two-sided critical value :math:`z_{1-\\alpha/2}`."""
    return float(stats.norm.isf(alpha / 2))


def relative_lift(
    mean_control: np.ndarray,
    var_mean_control: np.ndarray,
    mean_treatment: np.ndarray,
    var_mean_treatment: np.ndarray,
    alpha: float,
) -> dict[str, np.ndarray]:
    """Relative lift :math:`r = \\bar y_T / \\bar y_C - 1` with a delta-method interval.

    For independent arm means the first-order (delta-method) variance is
    :math:`\\operatorname{Var}(r) \\approx V_T/\\bar y_C^2 + \\bar y_T^2 V_C/\\bar y_C^4`, where
    :math:`V` is the variance of each arm's mean (Deng, Knoblich & Lu 2018, "Applying the delta
    method in metric analytics", section 3.2). The lift is undefined (NaN) when the control mean
    is zero.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_control = np.asarray(mean_control, dtype=float)
        safe = np.where(mean_control == 0, np.nan, mean_control)
        rel = mean_treatment / safe - 1.0
        variance = var_mean_treatment / safe**2 + mean_treatment**2 * var_mean_control / safe**4
    half = normal_quantile(alpha) * np.sqrt(variance)
    return {"rel_lift": rel, "rel_lift_ci_low": rel - half, "rel_lift_ci_high": rel + half}


def normal_comparison(
    mean_control: np.ndarray,
    var_mean_control: np.ndarray,
    mean_treatment: np.ndarray,
    var_mean_treatment: np.ndarray,
    alpha: float,
) -> dict[str, np.ndarray]:
    """Wald z-test and interval for a difference of two independent, asymptotically normal means."""
    diff = np.asarray(mean_treatment, dtype=float) - mean_control
    se = np.sqrt(np.asarray(var_mean_treatment, dtype=float) + var_mean_control)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / se
    half = normal_quantile(alpha) * se
    return {
        "abs_lift": diff,
        "abs_lift_ci_low": diff - half,
        "abs_lift_ci_high": diff + half,
        "p_value": 2.0 * stats.norm.sf(np.abs(z)),
    }
