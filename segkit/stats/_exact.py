"""Small-count proportions: Barnard's exact unconditional test and test-based intervals.

Below :data:`MIN_EXPECTED` expected units in a cell of the 2x2 table the pooled z-test is no longer
trustworthy (0/500 vs 5/500 gives z p = 0.025 where the exact tests give 0.045-0.062), so
:func:`segkit.stats.analyze` switches to Barnard's unconditional test with the pooled z statistic
(Suissa & Shuster 1985, "Exact unconditional sample sizes for the 2 x 2 binomial trial", Journal
of the Royal Statistical Society A 148; the ``pooled=True`` variant of
``scipy.stats.barnard_exact``). scipy's implementation evaluates its statistic table by table and
takes seconds at 500 units per arm; here the statistic is computed for every table at once and the
nuisance rate is maximised on a grid refined around its best point, which gives scipy's p-value
(checked in the tests) in milliseconds.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

__all__: list[str] = []

#: Fewest expected units (under no difference) in any cell of the 2x2 table for the z-test.
MIN_EXPECTED = 5.0

_GRID = 200
#: Largest table (cells) evaluated in full; larger arms are truncated at rates where the statistic's
#: tail probability is negligible (see :func:`barnard_p_value`).
_MAX_CELLS = 2_500_000
#: Largest arm evaluated in full (the binomial weights of a larger arm cost more than its tail).
_MAX_ARM = 2_000


def min_expected_count(count_control: float, n_control: float, count_treatment: float,
                       n_treatment: float) -> float:
    """The smallest expected cell count of the 2x2 table under the pooled rate."""
    pooled = (count_control + count_treatment) / (n_control + n_treatment)
    return float(min(n_control, n_treatment) * min(pooled, 1 - pooled))


def _pooled_z(x_t: np.ndarray, n_t: int, x_c: np.ndarray, n_c: int) -> np.ndarray:
    """Pooled two-proportion z statistic (treatment minus control) for every table at once."""
    pooled = (x_t + x_c) / (n_t + n_c)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x_t / n_t - x_c / n_c) / se
    return np.where(se > 0, z, 0.0)


def barnard_p_value(count_control: int, n_control: int, count_treatment: int, n_treatment: int,
                    alternative: str = "two-sided") -> float:
    """Barnard's exact unconditional p-value with the pooled z statistic.

    :math:`p = \\sup_{\\pi} \\sum_{T(x) \\succeq T_{obs}} b(x_T; n_T, \\pi)\\, b(x_C; n_C, \\pi)`,
    the tail taken by ``alternative`` ("larger": treatment rate above control). The supremum is
    found on a logit grid of 200 rates and refined with a bounded scalar search. When the full table
    exceeds 2.5 million cells or an arm 2,000 units (the counts are then tiny relative to the
    arms), tables and rates are truncated where the binomial tail beyond them is below
    1e-12, and the p-value is floored at the asymptotic one, which the supremum over the rates
    left out approaches.
    """
    x_t, n_t, x_c, n_c = int(count_treatment), int(n_treatment), int(count_control), int(n_control)
    if (x_t + x_c) * 2 > n_t + n_c:  # mirror to failures so truncation keeps the rare outcome
        x_t, x_c = n_t - x_t, n_c - x_c
        alternative = {"larger": "smaller", "smaller": "larger"}.get(alternative, alternative)
    observed = float(_pooled_z(np.array(x_t), n_t, np.array(x_c), n_c))
    rate_high, k_t, k_c = 1.0 - 1e-9, n_t, n_c
    floor = 0.0
    if (n_t + 1) * (n_c + 1) > _MAX_CELLS or max(n_t, n_c) > _MAX_ARM:
        rate_high = min(0.5, 40.0 * (x_t + x_c + 1) / (n_t + n_c))
        k_t = int(min(n_t, stats.binom.isf(1e-13, n_t, rate_high) + 1))
        k_c = int(min(n_c, stats.binom.isf(1e-13, n_c, rate_high) + 1))
        floor = _asymptotic(observed, alternative)
    xt, xc = np.arange(k_t + 1), np.arange(k_c + 1)
    z = _pooled_z(xt[:, None].astype(float), n_t, xc[None, :].astype(float), n_c)
    tol = 1e-9 * max(1.0, abs(observed))
    if alternative == "larger":
        region = z >= observed - tol
    elif alternative == "smaller":
        region = z <= observed + tol
    else:
        region = np.abs(z) >= abs(observed) - tol
    region = region.astype(float)

    def tail(rate: np.ndarray) -> np.ndarray:
        rate = np.atleast_1d(rate)
        pt = stats.binom.pmf(xt[None, :], n_t, rate[:, None])
        pc = stats.binom.pmf(xc[None, :], n_c, rate[:, None])
        return ((pt @ region) * pc).sum(axis=1)

    logits = np.linspace(special_logit(1e-7), special_logit(rate_high), _GRID)
    grid = 1 / (1 + np.exp(-logits))
    values = tail(grid)
    best = int(np.argmax(values))
    low, high = logits[max(best - 1, 0)], logits[min(best + 1, _GRID - 1)]
    refined = optimize.minimize_scalar(lambda u: -tail(1 / (1 + np.exp(-u)))[0],
                                       bounds=(low, high), method="bounded",
                                       options={"xatol": 1e-10})
    value = max(values[best], -float(refined.fun), floor)
    return float(min(value, 1.0))


def special_logit(p: float) -> float:
    """:math:`\\log(p / (1 - p))`."""
    return float(np.log(p / (1 - p)))


def _asymptotic(z: float, alternative: str) -> float:
    if alternative == "larger":
        return float(stats.norm.sf(z))
    if alternative == "smaller":
        return float(stats.norm.cdf(z))
    return float(2 * stats.norm.sf(abs(z)))


def test_based_bounds(estimate: float, p_value: float, alpha: float, alternative: str,
                      log_scale: bool = False) -> tuple[float, float] | None:
    """Miettinen's (1976) test-based interval: the standard error implied by the exact p-value.

    With :math:`z^* = \\Phi^{-1}(1 - p/2)` (two-sided) or :math:`\\Phi^{-1}(1 - p)` (one-sided),
    :math:`\\mathrm{se}^* = |\\hat\\Delta| / z^*` and the interval is :math:`\\hat\\Delta \\pm
    z_{1-\\alpha/2}\\,\\mathrm{se}^*` (one-sided: one bound), so it excludes 0 exactly when
    :math:`p < \\alpha`: the interval always agrees with the exact test it accompanies
    (Miettinen 1976, "Estimability and estimation in case-referent studies", American Journal of
    Epidemiology 103). ``log_scale``: ``estimate`` is a log ratio and the bounds are returned as
    ratios minus one. ``None`` when the estimate is 0 or the p-value carries no direction (the
    caller then falls back to the score interval widened to include 0).
    """
    two_sided = alternative == "two-sided"
    z_star = stats.norm.isf(p_value / 2 if two_sided else p_value)
    direction = {"larger": 1.0, "smaller": -1.0}.get(alternative, np.sign(estimate))
    if estimate == 0 or not np.isfinite(z_star) or z_star <= 0 or np.sign(estimate) != direction:
        return None
    se = abs(estimate) / z_star
    crit = stats.norm.isf(alpha / 2 if two_sided else alpha)
    low, high = estimate - crit * se, estimate + crit * se
    if alternative == "larger":
        high = np.inf
    elif alternative == "smaller":
        low = -np.inf
    if log_scale:
        with np.errstate(over="ignore"):
            return float(np.expm1(low)), float(np.expm1(high))
    return float(low), float(high)
