"""Proportions (open, click, conversion rates): pooled two-proportion z-test, Newcombe interval."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from segkit.stats._lift import relative_lift

__all__: list[str] = []

METHOD = "two-proportion z-test (pooled); Newcombe hybrid-score CI; delta-method relative CI"


def compare_proportions(
    count_control: np.ndarray,
    n_control: np.ndarray,
    count_treatment: np.ndarray,
    n_treatment: np.ndarray,
    alpha: float,
) -> dict[str, np.ndarray]:
    """Compare treatment with control rates, vectorised over arms.

    * p-value: the pooled two-proportion z-test,
      :math:`z = (\\hat p_T - \\hat p_C) / \\sqrt{\\bar p(1-\\bar p)(1/n_T + 1/n_C)}`, computed by
      statsmodels' ``test_proportions_2indep(method="score", correction=False)`` (the score test at
      a zero difference is exactly the pooled z-test; identical to ``proportions_ztest``).
    * absolute lift interval: Newcombe's hybrid score interval built from the two Wilson intervals
      (Newcombe 1998, "Interval estimation for the difference between independent proportions",
      Statistics in Medicine 17, method 10), via ``confint_proportions_2indep(method="newcomb")``.
    * relative lift interval: delta method (:func:`segkit.stats._lift.relative_lift`).

    When neither arm varies (no successes at all, or only successes) the z statistic is 0/0; the
    p-value is then 1, as Fisher's exact test gives: the data hold no evidence of a difference.
    """
    count_control = np.asarray(count_control, dtype=float)
    count_treatment = np.asarray(count_treatment, dtype=float)
    n_control = np.asarray(n_control, dtype=float)
    n_treatment = np.asarray(n_treatment, dtype=float)
    p_c = count_control / n_control
    p_t = count_treatment / n_treatment
    with np.errstate(divide="ignore", invalid="ignore"):
        test = test_proportions_2indep(
            count_treatment, n_treatment, count_control, n_control,
            method="score", correction=False, return_results=True,
        )
    low, high = confint_proportions_2indep(
        count_treatment, n_treatment, count_control, n_control,
        method="newcomb", compare="diff", alpha=alpha,
    )
    pooled = (count_control + count_treatment) / (n_control + n_treatment)
    no_variation = (pooled == 0) | (pooled == 1)
    result = {
        "control_mean": p_c,
        "treatment_mean": p_t,
        "abs_lift": p_t - p_c,
        "abs_lift_ci_low": np.asarray(low, dtype=float),
        "abs_lift_ci_high": np.asarray(high, dtype=float),
        "p_value": np.where(no_variation, 1.0, np.asarray(test.pvalue, dtype=float)),
    }
    result.update(
        relative_lift(p_c, p_c * (1 - p_c) / n_control, p_t, p_t * (1 - p_t) / n_treatment, alpha)
    )
    return result
