"""Continuous metrics (revenue per recipient): Welch t-test and interval, Mann-Whitney check."""

from __future__ import annotations

import numpy as np
from scipy import stats

from segkit.stats._lift import relative_lift

__all__: list[str] = []

METHOD = "Welch t-test and CI; delta-method relative CI"


def compare_means(
    mean_control: np.ndarray,
    var_control: np.ndarray,
    n_control: np.ndarray,
    mean_treatment: np.ndarray,
    var_treatment: np.ndarray,
    n_treatment: np.ndarray,
    alpha: float,
) -> dict[str, np.ndarray]:
    """Welch's unequal-variance t-test and interval from per-arm means, variances (ddof=1), sizes.

    The p-value comes from ``scipy.stats.ttest_ind_from_stats(equal_var=False)``; the interval is
    :math:`\\Delta \\pm t_{1-\\alpha/2,\\nu} \\sqrt{s_T^2/n_T + s_C^2/n_C}` with the
    Welch-Satterthwaite degrees of freedom :math:`\\nu` (Welch 1947), the same interval as
    ``scipy.stats.ttest_ind(equal_var=False).confidence_interval()``.
    """
    mean_control, var_control, n_control, mean_treatment, var_treatment, n_treatment = (
        np.asarray(a, dtype=float)
        for a in (mean_control, var_control, n_control, mean_treatment, var_treatment, n_treatment)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        test = stats.ttest_ind_from_stats(
            mean_treatment, np.sqrt(var_treatment), n_treatment,
            mean_control, np.sqrt(var_control), n_control,
            equal_var=False,
        )
        v_t, v_c = var_treatment / n_treatment, var_control / n_control
        dof = (v_t + v_c) ** 2 / (v_t**2 / (n_treatment - 1) + v_c**2 / (n_control - 1))
        half = stats.t.isf(alpha / 2, dof) * np.sqrt(v_t + v_c)
    diff = mean_treatment - mean_control
    result = {
        "control_mean": mean_control,
        "treatment_mean": mean_treatment,
        "abs_lift": diff,
        "abs_lift_ci_low": diff - half,
        "abs_lift_ci_high": diff + half,
        "p_value": np.asarray(test.pvalue, dtype=float),
    }
    result.update(relative_lift(mean_control, v_c, mean_treatment, v_t, alpha))
    return result


def mann_whitney_p_value(control: np.ndarray, treatment: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p-value (``scipy.stats.mannwhitneyu``, asymptotic with ties
    correction), reported beside Welch as a check that a few large values do not drive the result."""
    if len(control) == 0 or len(treatment) == 0:
        return float("nan")
    return float(
        stats.mannwhitneyu(treatment, control, alternative="two-sided", method="asymptotic").pvalue
    )


def bootstrap_interval(
    control: np.ndarray, treatment: np.ndarray, alpha: float, n_resamples: int, seed: int
) -> tuple[float, float]:
    """BCa bootstrap interval for the difference in means (``scipy.stats.bootstrap``, Efron 1987),
    resampling each arm independently, in batches to bound memory."""

    def diff(t: np.ndarray, c: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(t, axis=axis) - np.mean(c, axis=axis)

    res = stats.bootstrap(
        (treatment, control), diff, n_resamples=n_resamples, confidence_level=1 - alpha,
        method="BCa", rng=np.random.default_rng(seed), vectorized=True, batch=50,
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)
