"""Power analysis for two-arm tests: sample size, minimum detectable effect, achieved power and
test duration.

Proportions use the normal approximation with the pooled variance under the null and the
unpooled variance under the alternative (Fleiss, Levin & Paik 2003, "Statistical Methods for Rates
and Proportions", equation (4.14)) as implemented by statsmodels'
``samplesize_proportions_2indep_onetail`` / ``power_proportions_2indep``, matching the pooled
z-test of :func:`segkit.stats.analyze`; sample sizes are raised, if needed, until every arm expects
5 successes and 5 failures, so the analysis uses that z-test and not the exact small-count one.
Continuous metrics use the t-test's power (statsmodels' ``TTestIndPower``, noncentral t) with the
standardised effect :math:`d = \\delta / \\sigma`, as the analysis uses Welch's t.

The effect keeps its sign: a one-sided test for an increase cannot detect a decrease, so
:func:`sample_size` refuses an effect that points against ``alternative``. Every sample size is
checked against :func:`achieved_power` before it is returned (and the tests check it by
simulation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    samplesize_proportions_2indep_onetail,
)

from segkit.errors import ValidationError
from segkit.stats._exact import MIN_EXPECTED

__all__ = [
    "DurationPlan",
    "achieved_power",
    "minimum_detectable_effect",
    "sample_size",
    "test_duration",
]

ALTERNATIVES = ("two-sided", "larger", "smaller")
KINDS = ("proportion", "continuous")


@dataclass(frozen=True)
class DurationPlan:
    """How long a test must run: ``days`` at ``daily_units`` new units per day."""

    days: int
    n_per_arm: int
    total_units: int
    daily_units: float
    arms: int

    def summary(self) -> str:
        """The plan in one sentence."""
        return (
            f"{self.n_per_arm:,} units per arm x {self.arms} arms = {self.total_units:,} units: "
            f"{self.days} day(s) at {self.daily_units:,.0f} units per day."
        )


def _check(baseline, mde, alpha, power, ratio, alternative, kind, sd, comparisons) -> float:
    """Validate shared parameters; return the per-comparison alpha (Bonferroni over comparisons)."""
    if kind not in KINDS:
        raise ValidationError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    if alternative not in ALTERNATIVES:
        raise ValidationError(f"unknown alternative {alternative!r}; valid: {', '.join(ALTERNATIVES)}")
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must be in (0, 1), got {alpha!r}")
    if power is not None and not 0 < power < 1:
        raise ValidationError(f"power must be in (0, 1), got {power!r}")
    if not ratio > 0:
        raise ValidationError(f"ratio must be positive, got {ratio!r}")
    if not (isinstance(comparisons, int) and comparisons >= 1):
        raise ValidationError(f"comparisons must be an integer >= 1, got {comparisons!r}")
    if kind == "proportion" and not 0 < baseline < 1:
        raise ValidationError(f"a baseline proportion must be in (0, 1), got {baseline!r}")
    if kind == "continuous" and not (sd is not None and sd > 0):
        raise ValidationError("continuous metrics need sd, the per-unit standard deviation (> 0)")
    if mde is not None and kind == "proportion" and not 0 < baseline + mde < 1:
        raise ValidationError(
            f"baseline + mde = {baseline + mde!r} is not a proportion in (0, 1)"
        )
    return alpha / comparisons


def _absolute(baseline: float, mde: float, relative: bool) -> float:
    if relative and baseline == 0:
        raise ValidationError("a relative mde needs a non-zero baseline (a lift in percent of 0 "
                              "is 0); give the effect in the metric's units with relative=False")
    effect = mde * baseline if relative else mde
    if effect == 0:
        raise ValidationError("mde must be non-zero")
    return effect


def _check_direction(effect: float, alternative: str) -> None:
    if (alternative == "larger" and effect < 0) or (alternative == "smaller" and effect > 0):
        wanted = "an increase (mde > 0)" if alternative == "larger" else "a decrease (mde < 0)"
        raise ValidationError(
            f"alternative={alternative!r} tests for {wanted}, but mde points the other way "
            f"({effect:+g}); flip the sign of mde or the alternative, or use 'two-sided'")


def _min_units(baseline: float, effect: float, ratio: float, kind: str) -> int:
    """Treatment units below which a proportion test would fall back to the exact test."""
    if kind != "proportion":
        return 2
    rates = (baseline, baseline + effect)
    rare = min(min(r, 1 - r) for r in rates)
    return int(math.ceil(MIN_EXPECTED / rare / min(1.0, ratio)))


def sample_size(
    baseline: float,
    mde: float,
    *,
    kind: str = "proportion",
    sd: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: str = "two-sided",
    comparisons: int = 1,
) -> int:
    """Units needed in the treatment arm (control gets ``ratio`` times as many).

    Parameters
    ----------
    baseline
        Control rate (proportion) or mean (continuous).
    mde
        Minimum detectable effect: absolute difference, or relative to ``baseline`` when
        ``relative=True`` (0.05 = a 5% lift).
    kind, sd
        ``"proportion"`` or ``"continuous"`` (then ``sd`` is the per-unit standard deviation).
    alpha, power, alternative
        Test level, target power and sidedness.
    ratio
        Control units per treatment unit.
    comparisons
        Number of treatment-vs-control comparisons; alpha is split Bonferroni-style, a
        conservative stand-in for Holm.
    """
    effect = _absolute(baseline, mde, relative)
    level = _check(baseline, effect, alpha, power, ratio, alternative, kind, sd, comparisons)
    _check_direction(effect, alternative)
    if kind == "proportion":
        nobs = samplesize_proportions_2indep_onetail(
            effect, baseline, power, ratio=ratio, alpha=level, alternative=alternative
        )
    else:
        nobs = TTestIndPower().solve_power(
            effect_size=effect / sd, alpha=level, power=power, ratio=ratio,
            alternative=alternative,
        )
    n = max(int(math.ceil(float(nobs) - 1e-9)), _min_units(baseline, effect, ratio, kind))

    def reached(units: int) -> bool:
        return achieved_power(units, baseline, effect, kind=kind, sd=sd, alpha=alpha, ratio=ratio,
                              alternative=alternative, comparisons=comparisons) >= power

    while not reached(n):  # rounding or the formula's approximation fell short: step up
        n += max(1, n // 1000)
    return n


def achieved_power(
    n: float,
    baseline: float,
    mde: float,
    *,
    kind: str = "proportion",
    sd: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: str = "two-sided",
    comparisons: int = 1,
) -> float:
    """Power to detect ``mde`` with ``n`` treatment units (``ratio * n`` control units)."""
    effect = _absolute(baseline, mde, relative)
    level = _check(baseline, effect, alpha, None, ratio, alternative, kind, sd, comparisons)
    if not n > 1:
        raise ValidationError(f"n must be > 1, got {n!r}")
    if kind == "proportion":
        return float(
            power_proportions_2indep(
                effect, baseline, n, ratio=ratio, alpha=level, alternative=alternative
            ).power
        )
    return float(
        TTestIndPower().power(
            effect_size=effect / sd, nobs1=n, alpha=level, ratio=ratio,
            alternative=alternative,
        )
    )


def minimum_detectable_effect(
    n: float,
    baseline: float,
    *,
    kind: str = "proportion",
    sd: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: str = "two-sided",
    comparisons: int = 1,
) -> float:
    """Smallest effect detectable with ``power`` given ``n`` treatment units, in the tested
    direction: positive for ``"two-sided"`` and ``"larger"``, negative for ``"smaller"``.

    Solved by root-finding on :func:`achieved_power`, so the result is consistent with it.
    Absolute, or relative to ``baseline`` when ``relative=True``.
    """
    _check(baseline, None, alpha, power, ratio, alternative, kind, sd, comparisons)
    if not n > 1:
        raise ValidationError(f"n must be > 1, got {n!r}")
    sign = -1.0 if alternative == "smaller" else 1.0

    def gap(size: float) -> float:
        return achieved_power(n, baseline, sign * size, kind=kind, sd=sd, alpha=alpha,
                              ratio=ratio, alternative=alternative,
                              comparisons=comparisons) - power

    if kind == "continuous":
        upper = 10.0 * sd
        while gap(upper) < 0:
            upper *= 10
    else:
        upper = (baseline if sign < 0 else 1 - baseline) - 1e-12
        if gap(upper) < 0:
            raise ValidationError(f"n = {n} is too small to reach power {power} at any lift")
    effect = sign * optimize.brentq(gap, 1e-12 * (sd or 1.0), upper, xtol=1e-14, rtol=1e-12)
    return effect / baseline if relative else effect


def test_duration(
    baseline: float,
    mde: float,
    daily_units: float,
    *,
    arms: int = 2,
    kind: str = "proportion",
    sd: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
) -> DurationPlan:
    """Days needed to reach :func:`sample_size` per arm for ``arms`` equal arms (control included),
    when ``daily_units`` new units enter the test per day across all arms. With more than two
    arms alpha is split over the ``arms - 1`` comparisons with control."""
    if not daily_units > 0:
        raise ValidationError(f"daily_units must be positive, got {daily_units!r}")
    if not (isinstance(arms, int) and arms >= 2):
        raise ValidationError(f"arms must be an integer >= 2 (control included), got {arms!r}")
    n = sample_size(baseline, mde, kind=kind, sd=sd, relative=relative, alpha=alpha, power=power,
                    alternative=alternative, comparisons=arms - 1)
    total = n * arms
    return DurationPlan(days=int(math.ceil(total / daily_units)), n_per_arm=n, total_units=total,
                        daily_units=float(daily_units), arms=arms)


test_duration.__test__ = False  # a public name starting with "test": keep pytest from collecting it
