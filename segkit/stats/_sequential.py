"""Sequential monitoring: always-valid p-values and confidence sequences (mSPRT).

Hand-written because neither scipy nor statsmodels implements the mixture sequential probability
ratio test; it is a closed form (Johari, Koomen, Pekelis & Walsh 2017, "Peeking at A/B tests",
KDD; Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic
confidence sequences", Annals of Statistics, equation (14)) and is vectorised over looks and over
simulated experiments.

The mixture is tuned to a planned sample size, as GrowthBook's gbstats does: with :math:`N^*` the
planned units of a comparison (both arms), :math:`\\rho^2 = (-2\\log\\alpha + \\log(1 -
2\\log\\alpha)) / N^*` and a mixture variance :math:`\\tau^2 = \\rho^2 N V` over the true
difference (:math:`N V` is the per-unit variance scale of the estimate), the confidence sequence
is tightest near :math:`N^*` units (Waudby-Smith et al. 2023, "Time-uniform central limit theory
and asymptotic confidence sequences", equation (161); Howard et al. 2021, section 3.5). A fixed
mixture of "10% of the mean" (segkit's former default) was tuned to far larger effects than email
tests see and detected nothing at realistic sizes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from segkit.errors import ValidationError
from segkit.stats._input import arm_order, check_alpha, check_columns
from segkit.stats._metrics import Metric, resolve_kind

__all__ = ["SequentialPower", "SequentialResult", "sequential_power", "sequential_test"]



def tuning_rho2(alpha: float, planned_n: float | np.ndarray) -> np.ndarray:
    """gbstats' :math:`\\rho^2` for a confidence sequence tightest at ``planned_n`` units."""
    log_alpha = -2 * np.log(alpha)
    return (log_alpha + np.log(log_alpha + 1)) / np.asarray(planned_n, dtype=float)


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare .to_frame() instead
class SequentialResult:
    """Cumulative lift per treatment arm and look, with always-valid inference.

    ``to_frame()`` columns: ``date, arm, n_control, n_treatment, control_mean, treatment_mean,
    abs_lift, ci_low, ci_high`` (the fixed-horizon interval: NOT valid under peeking, shown for
    reference), ``cs_low, cs_high`` (the confidence sequence: valid at every look at once),
    ``rel_lift, p_value`` (fixed-horizon), ``p_value_always_valid``, ``significant`` (always-valid
    p-value below alpha divided by the number of treatment arms). ``planned_n``: the units per
    comparison the mixture was tuned to (None when an explicit ``mixture_sd`` was given).
    """

    table: pd.DataFrame
    metric: str
    kind: str
    control: str
    alpha: float
    mixture_sd: float | None
    planned_n: float | None = None
    method: str = ("mSPRT with a normal mixture tuned to the planned sample size (Johari et al. "
                   "2017; gbstats' tuning); confidence sequence by inversion")

    def to_frame(self) -> pd.DataFrame:
        """A copy of the per-look table."""
        return self.table.copy()

    def summary(self) -> str:
        """The latest look per arm, and the first look at which each arm crossed the boundary."""
        lines = [
            f"Sequential monitoring of {self.metric} ({self.kind}) vs {self.control!r}: "
            f"{self.method}; alpha {self.alpha:g}. Always-valid p-values and confidence sequences "
            "stay valid however often you look."
        ]
        for arm, rows in self.table.groupby("arm", sort=False):
            last = rows.iloc[-1]
            crossed = rows[rows["significant"]]
            when = f"significant since {crossed['date'].iloc[0]}" if len(crossed) else "not significant yet"
            lines.append(
                f"  {arm}: lift {last['abs_lift']:+.4g} (confidence sequence {last['cs_low']:+.4g} "
                f"to {last['cs_high']:+.4g}), always-valid p = {last['p_value_always_valid']:.3g} "
                f"at {last['date']}; {when}."
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>" + self.table.tail(10).to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )


def always_valid(
    diff: np.ndarray, variance: np.ndarray, tau2: np.ndarray, alpha: float
) -> dict[str, np.ndarray]:
    """mSPRT statistics along the last axis (looks in time order).

    With the estimate :math:`\\hat\\Delta_t`, its variance :math:`V_t` and a
    :math:`N(0, \\tau^2)` mixture over the true difference, the mixture likelihood ratio is
    :math:`\\Lambda_t = \\sqrt{V_t/(V_t+\\tau^2)}\\,
    \\exp\\{\\tau^2 \\hat\\Delta_t^2 / (2 V_t (V_t + \\tau^2))\\}`; the always-valid p-value is
    :math:`p_t = \\min(1, \\min_{s \\le t} 1/\\Lambda_s)` and the confidence sequence
    :math:`\\hat\\Delta_t \\pm \\sqrt{V_t (V_t+\\tau^2)/\\tau^2 \\,
    (2\\log(1/\\alpha) + \\log((V_t+\\tau^2)/V_t))}`, intersected over looks.
    """
    diff, variance, tau2 = np.broadcast_arrays(*(np.asarray(a, dtype=float)
                                                 for a in (diff, variance, tau2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        total = variance + tau2
        log_lr = 0.5 * np.log(variance / total) + tau2 * diff**2 / (2 * variance * total)
        log_lr = np.where(np.isfinite(log_lr), log_lr, 0.0)
        p_look = np.minimum(1.0, np.exp(-log_lr))
        half = np.sqrt(variance * total / tau2 * (2 * np.log(1 / alpha) + np.log(total / variance)))
    half = np.where(np.isfinite(half), half, np.inf)
    return {
        "log_likelihood_ratio": log_lr,
        "p_value_always_valid": np.minimum.accumulate(p_look, axis=-1),
        "cs_low": np.maximum.accumulate(diff - half, axis=-1),
        "cs_high": np.minimum.accumulate(diff + half, axis=-1),
    }


def sequential_test(
    df: pd.DataFrame,
    *,
    metric: str,
    date: str = "date",
    arm: str = "arm",
    control: str = "control",
    alpha: float = 0.05,
    planned_n: float | None = None,
    mixture_sd: float | None = None,
) -> SequentialResult:
    """Cumulative lift and always-valid inference at every date, for daily (or any) peeking.

    Parameters
    ----------
    df
        One row per unit: arm, the metric (0/1 for a proportion or numeric) and ``date`` (when the
        unit entered the test). Looks are the sorted unique dates; each look uses all units up to
        and including that date.
    metric
        The metric column (proportion or continuous; kind inferred as in :func:`analyze`).
    alpha
        Error rate over the whole monitoring period, split equally over the treatment arms.
    planned_n
        Units (control plus one treatment) the test was planned to reach: the mixture is tuned so
        the confidence sequence is tightest there (gbstats' :math:`N^*`). Default: the units of
        each comparison at the last look. While a test is running, pass the planned total from
        :func:`sample_size`; the tuning may not be changed after looking at the results.
    mixture_sd
        Instead of ``planned_n``: a fixed scale :math:`\\tau` of the normal mixture over the true
        absolute difference.
    """
    alpha = check_alpha(alpha)
    if mixture_sd is not None and not mixture_sd > 0:
        raise ValidationError(f"mixture_sd must be positive, got {mixture_sd!r}")
    if planned_n is not None and not (np.isfinite(planned_n) and planned_n >= 2):
        raise ValidationError(f"planned_n must be a number of units >= 2, got {planned_n!r}")
    if planned_n is not None and mixture_sd is not None:
        raise ValidationError("give planned_n or mixture_sd, not both")
    check_columns(df, [arm, metric, date], "experiment data")
    control = str(control)
    spec = resolve_kind(Metric(metric), df)
    treatments, _ = arm_order(df[arm], control, None)
    cumulative = _cumulative(df, arm, metric, date, [control, *treatments])
    blocks = [
        _arm_block(cumulative, control, t, spec.kind, alpha / len(treatments), planned_n,
                   mixture_sd)
        for t in treatments
    ]
    table = pd.concat(blocks, ignore_index=True)
    used = None if mixture_sd is not None else (
        planned_n if planned_n is not None else float(table.groupby("arm")["n_total"].max().max()))
    return SequentialResult(table=table.drop(columns="n_total"), metric=metric,
                            kind=str(spec.kind), control=control, alpha=alpha,
                            mixture_sd=mixture_sd, planned_n=used)


def _cumulative(df, arm, metric, date, order) -> dict[str, pd.DataFrame]:
    values = df[metric].astype(float)
    grouped = (
        pd.DataFrame({"date": df[date], "arm": df[arm].astype(str), "n": 1.0, "s": values,
                      "ss": values**2})
        .groupby(["date", "arm"], sort=True)[["n", "s", "ss"]]
        .sum()
    )
    return {
        key: grouped[key].unstack("arm").reindex(columns=order).fillna(0.0).cumsum()
        for key in ("n", "s", "ss")
    }


def _moments(cumulative, name):
    n = cumulative["n"][name].to_numpy()
    s = cumulative["s"][name].to_numpy()
    ss = cumulative["ss"][name].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        var = (ss - n * mean**2) / (n - 1)
    return n, mean, np.maximum(var, 0.0)


def look_statistics(n_c, m_c, v_c, n_t, m_t, v_t, alpha: float, *, planned_n=None,
                    mixture_sd=None) -> dict[str, np.ndarray]:
    """Fixed-horizon and always-valid statistics at every look (last axis), vectorised.

    ``v_c``, ``v_t`` are per-unit variances (for proportions :math:`p(1-p)`). ``alpha`` is the
    level of this one comparison. Without ``planned_n`` or ``mixture_sd`` the mixture is tuned to
    the units at the last look.
    """
    n_c, m_c, v_c, n_t, m_t, v_t = (np.asarray(a, dtype=float)
                                    for a in (n_c, m_c, v_c, n_t, m_t, v_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = v_t / n_t + v_c / n_c
        total = n_c + n_t
        if mixture_sd is not None:
            tau2 = np.full_like(variance, float(mixture_sd) ** 2)
        else:
            planned = planned_n if planned_n is not None else total[..., -1:]
            tau2 = tuning_rho2(alpha, planned) * total * variance
        diff = m_t - m_c
        seq = always_valid(diff, variance, tau2, alpha)
        half = stats.norm.isf(alpha / 2) * np.sqrt(variance)
        p_fixed = 2 * stats.norm.sf(np.abs(diff) / np.sqrt(variance))
    return {"abs_lift": diff, "variance": variance, "ci_low": diff - half, "ci_high": diff + half,
            "p_value": p_fixed, **seq}


def _arm_block(cumulative, control, treatment, kind, alpha, planned_n, mixture_sd) -> pd.DataFrame:
    n_c, m_c, v_c = _moments(cumulative, control)
    n_t, m_t, v_t = _moments(cumulative, treatment)
    if kind == "proportion":
        v_c, v_t = m_c * (1 - m_c), m_t * (1 - m_t)
    looks = look_statistics(n_c, m_c, v_c, n_t, m_t, v_t, alpha, planned_n=planned_n,
                            mixture_sd=mixture_sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = m_t / m_c - 1
    return pd.DataFrame({
        "date": cumulative["n"].index, "arm": treatment,
        "n_control": n_c.astype(int), "n_treatment": n_t.astype(int),
        "control_mean": m_c, "treatment_mean": m_t, "abs_lift": looks["abs_lift"],
        "ci_low": looks["ci_low"], "ci_high": looks["ci_high"],
        "cs_low": looks["cs_low"], "cs_high": looks["cs_high"], "rel_lift": rel,
        "p_value": looks["p_value"], "p_value_always_valid": looks["p_value_always_valid"],
        "significant": looks["p_value_always_valid"] < alpha, "n_total": n_c + n_t,
    })


@dataclass(frozen=True)
class SequentialPower:
    """What the always-valid guarantee costs: power of the sequential test under daily peeking
    against the fixed-horizon z-test read once at the end, from the same simulated experiments,
    and the sequential test's false-positive rate under the same peeking."""

    always_valid: float
    fixed_horizon: float
    false_positive_rate: float
    baseline: float
    lift: float
    units_per_look: float
    looks: int
    alpha: float
    planned_n: float
    simulations: int
    method: str = ("simulation: cumulative arms look by look, mSPRT always-valid p-value vs the "
                   "z-test at the last look only")

    def to_frame(self) -> pd.DataFrame:
        """One row per test: its power and (sequential) false-positive rate."""
        return pd.DataFrame({
            "test": ["always-valid (peek at every look)", "fixed-horizon (read once at the end)"],
            "power": [self.always_valid, self.fixed_horizon],
            "false_positive_rate": [self.false_positive_rate, self.alpha],
        })

    def summary(self) -> str:
        """The cost in one sentence."""
        return (
            f"For a true change of {self.lift:+.4g} from {self.baseline:.4g} with "
            f"{self.units_per_look:,.0f} units per arm per look over {self.looks} looks: "
            f"always-valid power {self.always_valid:.0%} (false positives under peeking "
            f"{self.false_positive_rate:.1%}) vs fixed-horizon {self.fixed_horizon:.0%}; "
            f"{self.simulations:,} simulations per case, tuned to {self.planned_n:,.0f} units."
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.to_frame().to_html(index=False)


def sequential_power(
    baseline: float,
    mde: float,
    units_per_look: float,
    looks: int,
    *,
    kind: str = "proportion",
    sd: float | None = None,
    relative: bool = True,
    alpha: float = 0.05,
    planned_n: float | None = None,
    simulations: int = 2000,
    random_state: int = 0,
) -> SequentialPower:
    """Simulate the sequential test's power, its false-positive rate under peeking at every look,
    and the fixed-horizon z-test's power, for ``looks`` looks of ``units_per_look`` new units per
    arm (the tuning defaults to the final units, as :func:`sequential_test` does).

    Proportions draw binomial counts per look; continuous metrics draw normal look sums with the
    per-unit standard deviation ``sd`` (treated as known: an approximation that is close from a
    few dozen units per look).
    """
    alpha = check_alpha(alpha)
    if kind not in ("proportion", "continuous"):
        raise ValidationError(f"unknown kind {kind!r}; valid: proportion, continuous")
    if kind == "continuous" and not (sd is not None and sd > 0):
        raise ValidationError("continuous metrics need sd, the per-unit standard deviation (> 0)")
    if not (units_per_look >= 1 and isinstance(looks, int) and looks >= 1):
        raise ValidationError("units_per_look must be >= 1 and looks an integer >= 1")
    lift = mde * baseline if relative else mde
    if kind == "proportion" and not (0 < baseline < 1 and 0 < baseline + lift < 1):
        raise ValidationError(f"baseline {baseline!r} and baseline + lift {baseline + lift!r} "
                              "must be proportions in (0, 1)")
    rng = np.random.default_rng(random_state)
    planned = planned_n if planned_n is not None else 2.0 * units_per_look * looks
    rates = {}
    for name, effect in (("power", lift), ("null", 0.0)):
        looks_ = _simulate_looks(rng, baseline, effect, units_per_look, looks, kind, sd,
                                 simulations)
        stats_ = look_statistics(*looks_, alpha, planned_n=planned)
        rates[name] = (float((stats_["p_value_always_valid"][:, -1] < alpha).mean()),
                       float((stats_["p_value"][:, -1] < alpha).mean()))
    return SequentialPower(always_valid=rates["power"][0], fixed_horizon=rates["power"][1],
                           false_positive_rate=rates["null"][0], baseline=float(baseline),
                           lift=float(lift), units_per_look=float(units_per_look), looks=looks,
                           alpha=alpha, planned_n=float(planned), simulations=int(simulations))


def _simulate_looks(rng, baseline, lift, units, looks, kind, sd, simulations):
    n = np.cumsum(np.full((simulations, looks), float(units)), axis=1)
    arms = []
    for mean in (baseline, baseline + lift):
        if kind == "proportion":
            sums = np.cumsum(rng.binomial(int(units), mean, size=(simulations, looks)), axis=1)
            m = sums / n
            arms.append((n, m, m * (1 - m)))
        else:
            sums = np.cumsum(rng.normal(units * mean, np.sqrt(units) * sd,
                                        size=(simulations, looks)), axis=1)
            arms.append((n, sums / n, np.full_like(n, sd**2)))
    return (*arms[0], *arms[1])
