"""CUPED: variance reduction for continuous metrics with a pre-period covariate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit.errors import ValidationError

__all__ = ["cuped_adjust"]


def cuped_theta(values: np.ndarray, covariate: np.ndarray) -> float:
    """The CUPED coefficient :math:`\\theta = \\operatorname{cov}(Y, X) / \\operatorname{var}(X)`,
    pooled over all arms (Deng, Xu, Kohavi & Walker 2013, "Improving the sensitivity of online
    controlled experiments by utilizing pre-experiment data", WSDM, equation (3))."""
    x = np.asarray(covariate, dtype=float)
    y = np.asarray(values, dtype=float)
    var_x = x.var(ddof=1) if len(x) > 1 else 0.0
    if not var_x > 0:
        raise ValidationError("the CUPED covariate is constant, so it cannot reduce variance")
    return float(np.cov(y, x, ddof=1)[0, 1] / var_x)


def cuped_adjust(
    df: pd.DataFrame, metric: str, covariate: str
) -> tuple[pd.Series, float]:
    """Return the CUPED-adjusted metric :math:`Y - \\theta (X - \\bar X)` and :math:`\\theta`.

    The covariate must be measured before assignment (last month's spend, prior opens): then it is
    independent of the arm, the adjusted means stay unbiased for the lift, and their variance
    shrinks by the factor :math:`1 - \\rho^2` (Deng et al. 2013). ``theta`` is pooled across arms
    so the same adjustment applies to every unit.

    Parameters
    ----------
    df
        Per-unit rows (all arms together).
    metric, covariate
        Numeric columns: the outcome and its pre-period version.
    """
    for column in (metric, covariate):
        if column not in df.columns:
            raise ValidationError(
                f"column {column!r} not found; columns: {', '.join(map(str, df.columns))}"
            )
        if not pd.api.types.is_numeric_dtype(df[column]) or df[column].isna().any():
            raise ValidationError(f"CUPED column {column!r} must be numeric without missing values")
    x = df[covariate].to_numpy(dtype=float)
    theta = cuped_theta(df[metric].to_numpy(dtype=float), x)
    adjusted = df[metric].astype(float) - theta * (x - x.mean())
    return adjusted.rename(metric), theta
