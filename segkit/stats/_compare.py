"""One comparison (treatment arm vs control on one metric) from each arm's summary statistics.

Every comparison has one test of "no difference" and two intervals, absolute and relative, both
obtained by inverting that same test with the same reference distribution:

* continuous metrics (and CUPED-adjusted ones): Welch's t; the absolute interval is Welch's, the
  relative one Fieller's (1954) interval for the ratio of means with the same t quantile and
  degrees of freedom;
* ratio metrics: the delta-method z-test; relative interval by Fieller with the z quantile;
* proportions: the pooled score z-test, with the Miettinen-Nurminen score intervals (without the
  small-sample factor) for the difference and the ratio, which invert exactly that test; below
  :data:`~segkit.stats._exact.MIN_EXPECTED` expected units in a cell, Barnard's exact
  unconditional test with Miettinen's test-based intervals.

A ratio of 1 is a difference of 0, so one p-value serves both scales, and each interval excludes
0 exactly when the p-value is below alpha. Comparisons that cannot be tested come back with NaN
numbers and a plain-language ``refusal``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize, special
from statsmodels.stats.proportion import score_test_proportions_2indep, test_proportions_2indep

from segkit.stats import _exact

__all__: list[str] = []

ALTERNATIVES = ("two-sided", "larger", "smaller")
SCALES = ("relative", "absolute")

TEST_NAMES = {
    "welch": "Welch t-test",
    "z": "delta-method z-test",
    "score": "pooled two-proportion z-test (score)",
    "barnard": "Barnard exact unconditional test",
}

_NAN_INTERVALS = {key: np.nan for key in ("abs_lift_ci_low", "abs_lift_ci_high",
                                          "rel_lift_ci_low", "rel_lift_ci_high")}


def _p_from_statistic(statistic: float, dof: float, alternative: str) -> float:
    def sf(x: float) -> float:
        return float(special.stdtr(dof, -x) if np.isfinite(dof) else special.ndtr(-x))

    if alternative == "larger":
        return sf(statistic)
    if alternative == "smaller":
        return sf(-statistic)
    return 2 * sf(abs(statistic))


def _critical(alpha: float, dof: float, alternative: str) -> float:
    level = alpha / 2 if alternative == "two-sided" else alpha
    return float(-special.stdtrit(dof, level) if np.isfinite(dof) else -special.ndtri(level))


def _one_sided(low: float, high: float, alternative: str) -> tuple[float, float]:
    if alternative == "larger":
        return low, np.inf
    if alternative == "smaller":
        return -np.inf, high
    return low, high


def fieller_bounds(mean_control: float, var_control: float, mean_treatment: float,
                   var_treatment: float, crit: float, alternative: str) -> tuple[float, float]:
    """Relative lift bounds :math:`\\rho - 1` from Fieller's theorem (Fieller 1954, "Some
    problems in interval estimation", JRSS B 16): the ratios :math:`\\rho` with
    :math:`(\\bar y_T - \\rho \\bar y_C)^2 \\le c^2 (V_T + \\rho^2 V_C)`, where :math:`V` are the
    variances of the arm means and :math:`c` the critical value of the absolute test.

    At :math:`\\rho = 1` the inequality is the absolute test itself, so the relative interval
    excludes 0 exactly when that test rejects. When the set is unbounded (the control mean is
    within its own margin of error of zero, or not positive) the bounds are infinite if the set
    holds a ratio of 1 (no significant difference), else NaN: no single interval describes it.
    """
    a = mean_control**2 - crit**2 * var_control
    if not (np.isfinite(a) and a > 0 and mean_control > 0):
        diff, se = mean_treatment - mean_control, np.sqrt(var_treatment + var_control)
        rejects = {"larger": diff > crit * se, "smaller": diff < -crit * se}.get(
            alternative, abs(diff) > crit * se)
        return (np.nan, np.nan) if rejects else (-np.inf, np.inf)
    b = -2 * mean_treatment * mean_control
    c = mean_treatment**2 - crit**2 * var_treatment
    disc = max(b * b - 4 * a * c, 0.0)
    low, high = (-b - np.sqrt(disc)) / (2 * a) - 1, (-b + np.sqrt(disc)) / (2 * a) - 1
    return _one_sided(float(low), float(high), alternative)


def _refused(reason: str, control_mean: float, treatment_mean: float) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = treatment_mean / control_mean - 1 if control_mean else np.nan
    return {"control_mean": control_mean, "treatment_mean": treatment_mean,
            "abs_lift": treatment_mean - control_mean, "rel_lift": rel, "p_value": np.nan,
            "test": "not tested", "refusal": reason, **_NAN_INTERVALS}


def _mean_test(c: dict, t: dict, kind: str, alternative: str) -> dict:
    """p-value of the continuous (Welch) or ratio (z) comparison, or a refusal."""
    m_c, m_t = float(c["mean"]), float(t["mean"])
    if min(c["n"], t["n"]) < 2:
        return _refused(f"an arm has fewer than two units (control {c['n']:g}, treatment "
                        f"{t['n']:g}), so there is no variance to test with", m_c, m_t)
    if kind == "ratio" and not (np.isfinite(m_c) and np.isfinite(m_t)):
        return _refused("the ratio's denominator sums to zero in an arm, so the ratio is "
                        "undefined", m_c, m_t)
    v_c, v_t = float(c["var"]), float(t["var"])
    if kind == "continuous":
        v_c, v_t = v_c / c["n"], v_t / t["n"]
    if not (v_c > 0 or v_t > 0):
        return _refused("no variation within either arm (every unit in an arm has the same "
                        "value), so the difference has no standard error and cannot be tested",
                        m_c, m_t)
    dof = np.inf
    if kind == "continuous":
        dof = (v_t + v_c) ** 2 / (v_t**2 / (t["n"] - 1) + v_c**2 / (c["n"] - 1))
    statistic = (m_t - m_c) / np.sqrt(v_t + v_c)
    rel = m_t / m_c - 1 if m_c != 0 else np.nan
    return {"control_mean": m_c, "treatment_mean": m_t, "abs_lift": m_t - m_c, "rel_lift": rel,
            "p_value": _p_from_statistic(statistic, dof, alternative),
            "test": "welch" if kind == "continuous" else "z", "refusal": "",
            "_var": (v_c, v_t), "_dof": dof}


def _mean_intervals(test: dict, alpha: float, alternative: str) -> dict:
    v_c, v_t = test["_var"]
    crit = _critical(alpha, test["_dof"], alternative)
    half = crit * np.sqrt(v_c + v_t)
    low, high = _one_sided(test["abs_lift"] - half, test["abs_lift"] + half, alternative)
    rel_low, rel_high = fieller_bounds(test["control_mean"], v_c, test["treatment_mean"], v_t,
                                       crit, alternative)
    return {"abs_lift_ci_low": low, "abs_lift_ci_high": high,
            "rel_lift_ci_low": rel_low, "rel_lift_ci_high": rel_high}


def _proportion_test(c: dict, t: dict, alternative: str) -> dict:
    n_c, n_t, x_c, x_t = c["n"], t["n"], c["count"], t["count"]
    p_c, p_t = x_c / n_c, x_t / n_t
    if min(n_c, n_t) < 2:
        return _refused(f"an arm has fewer than two units (control {n_c:g}, treatment {n_t:g}); "
                        "a rate from one unit cannot be tested", p_c, p_t)
    rel = p_t / p_c - 1 if p_c > 0 else np.nan
    expected = _exact.min_expected_count(x_c, n_c, x_t, n_t)
    base = {"control_mean": p_c, "treatment_mean": p_t, "abs_lift": p_t - p_c, "rel_lift": rel,
            "refusal": "", "_expected": expected}
    if expected < _exact.MIN_EXPECTED:
        p = _exact.barnard_p_value(x_c, n_c, x_t, n_t, alternative)
        return {**base, "p_value": p, "test": "barnard"}
    if x_c + x_t in (0, n_c + n_t):
        return {**base, "p_value": 1.0, "test": "score"}
    with np.errstate(divide="ignore", invalid="ignore"):
        p = test_proportions_2indep(x_t, n_t, x_c, n_c, method="score", correction=False,
                                    alternative=alternative).pvalue
    return {**base, "p_value": float(p), "test": "score"}


def _score_statistic(c: dict, t: dict, value: float, compare: str) -> float:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(score_test_proportions_2indep(
            t["count"], t["n"], c["count"], c["n"], value=value, compare=compare,
            correction=False).statistic)


def score_diff_statistic(x_t, n_t, x_c, n_c, diff) -> np.ndarray:
    """Miettinen-Nurminen score statistic for ``p_T - p_C = diff`` without the n/(n-1) factor,
    elementwise: the restricted maximum-likelihood rates are the closed-form root of
    Farrington & Manning's (1990) cubic, as in statsmodels' ``score_test_proportions_2indep``."""
    x_t, n_t, x_c, n_c, diff = np.broadcast_arrays(*(np.asarray(a, dtype=float)
                                                     for a in (x_t, n_t, x_c, n_c, diff)))
    n, x = n_t + n_c, x_t + x_c
    with np.errstate(all="ignore"):
        t2 = (n_t + 2 * n_c) * diff - n - x
        t1 = (x_c * diff - n - 2 * x_c) * diff + x
        t0 = x_c * diff * (1 - diff)
        q = (t2 / (3 * n)) ** 3 - t1 * t2 / (6 * n**2) + t0 / (2 * n)
        r = np.sign(q) * np.sqrt((t2 / (3 * n)) ** 2 - t1 / (3 * n))
        angle = (np.pi + np.arccos(q / r**3)) / 3
        rate_c = np.where(diff == 0, x / n, 2 * r * np.cos(angle) - t2 / (3 * n))
        rate_t = rate_c + diff
        variance = rate_t * (1 - rate_t) / n_t + rate_c * (1 - rate_c) / n_c
        return (x_t / n_t - x_c / n_c - diff) / np.sqrt(variance)


def score_diff_bounds(x_t, n_t, x_c, n_c, alpha: float, alternative: str = "two-sided"
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The score interval for the difference (inverting :func:`score_diff_statistic`), for many
    comparisons at once by bisection to machine precision; the statistic decreases in ``diff``,
    and where it is undefined near the domain's ends its side gives its sign."""
    x_t, n_t, x_c, n_c = np.broadcast_arrays(*(np.asarray(a, dtype=float)
                                               for a in (x_t, n_t, x_c, n_c)))
    crit = _critical(alpha, np.inf, alternative)
    estimate = x_t / n_t - x_c / n_c

    size = estimate.size
    flat = [a.ravel() for a in (x_t, n_t, x_c, n_c, estimate)]
    x_t2, n_t2, x_c2, n_c2, est2 = (np.concatenate([a, a]) for a in flat)
    target = np.concatenate([np.full(size, crit), np.full(size, -crit)])
    low = np.concatenate([np.full(size, -1.0), flat[4]])
    high = np.concatenate([flat[4], np.full(size, 1.0)])
    for _ in range(56):  # both bounds of every comparison in one pass
        mid = (low + high) / 2
        value = score_diff_statistic(x_t2, n_t2, x_c2, n_c2, mid)
        value = np.where(np.isnan(value), np.where(mid < est2, 1e6, -1e6), value)
        above = value > target
        low, high = np.where(above, mid, low), np.where(above, high, mid)
    root = (low + high) / 2
    lower, upper = root[:size].reshape(estimate.shape), root[size:].reshape(estimate.shape)
    if alternative == "larger":
        upper = np.full_like(upper, np.inf)
    elif alternative == "smaller":
        lower = np.full_like(lower, -np.inf)
    return lower, upper


def _score_bounds(c: dict, t: dict, alpha: float, alternative: str, compare: str):
    """Miettinen-Nurminen score interval (without the n/(n-1) factor) for the difference, or the
    ratio minus one, found by root-finding on statsmodels' score statistic
    (``score_test_proportions_2indep``), whose value at no difference is the pooled z. statsmodels'
    own ``confint_proportions_2indep(method="score")`` fails to bracket its roots at small alpha
    (e.g. 11/1275 vs 3/1242 at alpha 0.005), hence the search here over the whole domain."""
    if compare == "diff":
        low, high = score_diff_bounds(t["count"], t["n"], c["count"], c["n"], alpha, alternative)
        return float(low), float(high)
    crit = _critical(alpha, np.inf, alternative)
    p_t, p_c = t["count"] / t["n"], c["count"] / c["n"]
    # the ratio: search the log ratio
    to_value, ends, outside = np.exp, (-30.0, 30.0), (0.0, np.inf)
    estimate = np.log(p_t / p_c) if p_t > 0 and p_c > 0 else (-30.0 if p_t == 0 else 30.0)

    def stat(u: float) -> float:
        value = _score_statistic(c, t, float(to_value(u)), compare)
        if np.isnan(value):  # the constrained MLE fails near the domain's ends: the statistic is
            return 1e6 if u < estimate else -1e6  # decreasing, so the side gives its sign
        return value

    def bound(target: float, low: float, high: float, edge: float) -> float:
        far, near = (low, high) if edge == outside[0] else (high, low)
        for _ in range(80):  # the score statistic is undefined near the domain's ends
            if np.isfinite(stat(far)):
                break
            far = (far + near) / 2
        low, high = (far, near) if edge == outside[0] else (near, far)
        f_low, f_high = stat(low) - target, stat(high) - target
        if not (np.isfinite(f_low) and np.isfinite(f_high)) or f_low * f_high > 0:
            return edge
        return float(to_value(optimize.brentq(lambda u: stat(u) - target, low, high,
                                              xtol=1e-13, rtol=1e-12)))

    low = bound(crit, ends[0], estimate, outside[0]) if estimate > ends[0] else outside[0]
    high = bound(-crit, estimate, ends[1], outside[1]) if estimate < ends[1] else outside[1]
    if compare == "ratio":
        low, high = low - 1, high - 1
    return _one_sided(low, high, alternative)


def _proportion_intervals(test: dict, c: dict, t: dict, alpha: float, alternative: str,
                          relative: bool = True) -> dict:
    abs_bounds = _score_bounds(c, t, alpha, alternative, "diff")
    rel_bounds = (_score_bounds(c, t, alpha, alternative, "ratio") if c["count"] > 0 and relative
                  else (np.nan, np.nan))
    if test["test"] == "barnard":
        significant = test["p_value"] < alpha
        exact_abs = _exact.test_based_bounds(test["abs_lift"], test["p_value"], alpha, alternative)
        abs_bounds = exact_abs or _widen_to_zero(abs_bounds, significant)
        if not relative:
            pass
        elif c["count"] > 0 and t["count"] > 0:
            log_ratio = np.log(test["treatment_mean"] / test["control_mean"])
            exact_rel = _exact.test_based_bounds(log_ratio, test["p_value"], alpha, alternative,
                                                 log_scale=True)
            rel_bounds = exact_rel or _widen_to_zero(rel_bounds, significant)
        elif c["count"] > 0:  # no treatment successes: scale the absolute bounds by control's rate
            rel_bounds = tuple(b / test["control_mean"] for b in abs_bounds)
    return {"abs_lift_ci_low": abs_bounds[0], "abs_lift_ci_high": abs_bounds[1],
            "rel_lift_ci_low": rel_bounds[0], "rel_lift_ci_high": rel_bounds[1]}


def _widen_to_zero(bounds: tuple[float, float], significant: bool) -> tuple[float, float]:
    """A fallback interval that agrees with the exact test's verdict on 0."""
    low, high = bounds
    return (low, high) if significant else (min(low, 0.0), max(high, 0.0))


def p_value(kind: str, control: dict, treatment: dict, alternative: str) -> float:
    """Only the p-value of :func:`compare` (no intervals): for simulations of the decision."""
    if kind == "proportion":
        return _proportion_test(control, treatment, alternative)["p_value"]
    return _mean_test(control, treatment, kind, alternative)["p_value"]


def compare(kind: str, control: dict, treatment: dict, alpha: float, alternative: str,
            relative: bool = True) -> dict:
    """Test and intervals for one (treatment, metric) from the arms' summary statistics.

    ``control`` / ``treatment``: ``{"n", "count"}`` for proportions, ``{"n", "mean", "var"}``
    (per-unit variance, ddof=1) for continuous metrics, ``{"n", "mean", "var"}`` (variance of the
    ratio estimate) for ratios. Returns the numbers of one table row plus private keys
    (``_...``) that :func:`intervals` reuses at another level.
    """
    if kind == "proportion":
        test = _proportion_test(control, treatment, alternative)
    else:
        test = _mean_test(control, treatment, kind, alternative)
    return {**test, **intervals(kind, test, control, treatment, alpha, alternative, relative)}


def intervals(kind: str, test: dict, control: dict, treatment: dict, alpha: float,
              alternative: str, relative: bool = True) -> dict:
    """The absolute and relative bounds of a tested comparison at level ``1 - alpha``
    (``relative=False``: the relative bounds of a proportion are skipped, left NaN)."""
    if test["refusal"] or not np.isfinite(alpha):
        return dict(_NAN_INTERVALS)
    if kind == "proportion":
        return _proportion_intervals(test, control, treatment, alpha, alternative, relative)
    return _mean_intervals(test, alpha, alternative)


def describe_test(kind: str, test: str, expected: float | None, alternative: str,
                  cuped: bool = False) -> str:
    """The ``method`` text of a row: which test, why, and how its intervals were made."""
    side = "" if alternative == "two-sided" else f", one-sided ({alternative})"
    if test == "not tested":
        return "not tested"
    if test == "barnard":
        return (f"Barnard exact unconditional test{side} (smallest expected cell count "
                f"{expected:.2g} < {_exact.MIN_EXPECTED:g}); test-based intervals (Miettinen)")
    if test == "score":
        return (f"pooled two-proportion z-test (score){side}; Miettinen-Nurminen score intervals "
                "for the difference and ratio")
    if test == "welch":
        return (f"Welch t-test{side}{' on CUPED-adjusted values' if cuped else ''}; Welch "
                "interval; Fieller interval for the relative lift")
    return (f"delta-method z-test for a ratio of sums{side}; Wald interval; Fieller interval for "
            "the relative lift")
