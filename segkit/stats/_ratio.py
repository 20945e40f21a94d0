"""Ratio metrics (click-to-open, revenue per order): delta-method variance of a ratio of sums."""

from __future__ import annotations

import numpy as np

from segkit.stats._lift import normal_comparison, relative_lift

__all__: list[str] = []

METHOD = "delta-method z-test and CI for a ratio of sums; delta-method relative CI"


def ratio_estimate(
    numerator: np.ndarray, denominator: np.ndarray
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Ratio of sums :math:`R = \\sum x_i / \\sum y_i` over one arm's units and its variance.

    Units (subscribers) are the randomised, independent observations, so the ratio's variance is
    the delta-method one (Deng, Knoblich & Lu 2018, "Applying the delta method in metric
    analytics", equation (4)):
    :math:`\\operatorname{Var}(R) \\approx \\frac{1}{n\\bar y^2}\\left(s_x^2 - 2R\\,s_{xy} + R^2 s_y^2\\right)`.
    Treating opens (or orders) as independent would understate it. Works along the last axis,
    so many simulated arms can be estimated at once; NaN when ``n < 2`` or the denominator sums
    to zero.
    """
    x = np.asarray(numerator, dtype=float)
    y = np.asarray(denominator, dtype=float)
    n = x.shape[-1]
    if n < 2:
        nan = np.full(x.shape[:-1], np.nan)
        return (float("nan"), float("nan")) if x.ndim == 1 else (nan, nan)
    mean_x, mean_y = x.mean(axis=-1), y.mean(axis=-1)
    dx, dy = x - mean_x[..., None], y - mean_y[..., None]
    var_x = (dx**2).sum(-1) / (n - 1)
    var_y = (dy**2).sum(-1) / (n - 1)
    cov = (dx * dy).sum(-1) / (n - 1)
    ratio, variance = ratio_from_moments(n, mean_x, mean_y, var_x, var_y, cov)
    if x.ndim == 1:
        return float(ratio), float(variance)
    return ratio, variance


def ratio_from_moments(
    n: np.ndarray | float,
    mean_x: np.ndarray,
    mean_y: np.ndarray,
    var_x: np.ndarray,
    var_y: np.ndarray,
    cov_xy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ratio_estimate` from each arm's size, means, variances and covariance (ddof=1).

    The same delta-method variance (Deng, Knoblich & Lu 2018, equation (4)), for callers that
    already hold per-group moments, e.g. many segments summed in one matrix product
    (:func:`segkit.segments.segment_performance`). Elementwise; NaN where ``mean_y`` is zero.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = mean_x / np.where(mean_y == 0, np.nan, mean_y)
        variance = (var_x - 2 * ratio * cov_xy + ratio**2 * var_y) / (n * mean_y**2)
    return ratio, variance


def compare_ratios(
    ratio_control: np.ndarray,
    var_control: np.ndarray,
    ratio_treatment: np.ndarray,
    var_treatment: np.ndarray,
    alpha: float,
) -> dict[str, np.ndarray]:
    """Wald z-test and interval for the difference of two arm ratios, vectorised over arms."""
    result = {"control_mean": np.asarray(ratio_control, float),
              "treatment_mean": np.asarray(ratio_treatment, float)}
    result.update(normal_comparison(ratio_control, var_control, ratio_treatment, var_treatment, alpha))
    result.update(relative_lift(ratio_control, var_control, ratio_treatment, var_treatment, alpha))
    return result
