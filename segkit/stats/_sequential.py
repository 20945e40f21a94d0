"""Sequential monitoring: always-valid p-values and confidence sequences (mSPRT).

Hand-written because neither scipy nor statsmodels implements the mixture sequential probability
ratio test; it is a closed form (Johari, Koomen, Pekelis & Walsh 2017, "Peeking at A/B tests",
KDD; Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic
confidence sequences", Annals of Statistics, equation (14)) and is vectorised over looks and over
simulated experiments.
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

__all__ = ["SequentialResult", "sequential_test"]

#: Default mixture scale: a 10% relative lift of the pooled mean.
DEFAULT_RELATIVE_MIXTURE_SD = 0.1


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare .to_frame() instead
class SequentialResult:
    """Cumulative lift per treatment arm and look, with always-valid inference.

    ``to_frame()`` columns: ``date, arm, n_control, n_treatment, control_mean, treatment_mean,
    abs_lift, ci_low, ci_high`` (the fixed-horizon interval: NOT valid under peeking, shown for
    reference), ``cs_low, cs_high`` (the confidence sequence: valid at every look at once),
    ``rel_lift, p_value`` (fixed-horizon), ``p_value_always_valid``, ``significant`` (always-valid
    p-value below alpha divided by the number of treatment arms).
    """

    table: pd.DataFrame
    metric: str
    kind: str
    control: str
    alpha: float
    mixture_sd: float | None
    method: str = "mSPRT with a normal mixture (Johari et al. 2017); confidence sequence by inversion"

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
    mixture_sd
        Scale :math:`\\tau` of the normal mixture over the true absolute difference: the size of
        effect the test is tuned to detect fastest. Default: 10% of the pooled mean at each look.
    """
    alpha = check_alpha(alpha)
    if mixture_sd is not None and not mixture_sd > 0:
        raise ValidationError(f"mixture_sd must be positive, got {mixture_sd!r}")
    check_columns(df, [arm, metric, date], "experiment data")
    spec = resolve_kind(Metric(metric), df)
    treatments, _ = arm_order(df[arm], control, None)
    cumulative = _cumulative(df, arm, metric, date, [control, *treatments])
    blocks = [
        _arm_block(cumulative, control, t, spec.kind, alpha, len(treatments), mixture_sd)
        for t in treatments
    ]
    table = pd.concat(blocks, ignore_index=True)
    return SequentialResult(table=table, metric=metric, kind=str(spec.kind), control=control,
                            alpha=alpha, mixture_sd=mixture_sd)


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


def _arm_block(cumulative, control, treatment, kind, alpha, k, mixture_sd) -> pd.DataFrame:
    n_c, m_c, v_c = _moments(cumulative, control)
    n_t, m_t, v_t = _moments(cumulative, treatment)
    if kind == "proportion":
        v_c, v_t = m_c * (1 - m_c), m_t * (1 - m_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = v_t / n_t + v_c / n_c
        pooled = (m_c * n_c + m_t * n_t) / (n_c + n_t)
        rel = m_t / m_c - 1
    tau = mixture_sd if mixture_sd is not None else DEFAULT_RELATIVE_MIXTURE_SD * np.abs(pooled)
    diff = m_t - m_c
    seq = always_valid(diff, variance, np.asarray(tau, dtype=float) ** 2, alpha / k)
    half = stats.norm.isf(alpha / 2) * np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_fixed = 2 * stats.norm.sf(np.abs(diff) / np.sqrt(variance))
    return pd.DataFrame({
        "date": cumulative["n"].index, "arm": treatment,
        "n_control": n_c.astype(int), "n_treatment": n_t.astype(int),
        "control_mean": m_c, "treatment_mean": m_t, "abs_lift": diff,
        "ci_low": diff - half, "ci_high": diff + half,
        "cs_low": seq["cs_low"], "cs_high": seq["cs_high"], "rel_lift": rel,
        "p_value": p_fixed, "p_value_always_valid": seq["p_value_always_valid"],
        "significant": seq["p_value_always_valid"] < alpha / k,
    })
