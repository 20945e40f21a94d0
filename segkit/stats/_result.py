"""Result objects of an experiment analysis: the comparison table, SRM check and recommendation."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pandas as pd

from segkit.stats._srm import SRMResult

__all__ = ["DECISIONS", "ExperimentResult", "Recommendation"]

#: The possible recommendations.
DECISIONS = ("ship", "don't ship", "inconclusive", "invalid: SRM")

#: Columns every analysis table has, in order.
COLUMNS = [
    "arm", "metric", "kind", "n_control", "n_treatment", "control_mean", "treatment_mean",
    "abs_lift", "abs_lift_ci_low", "abs_lift_ci_high", "rel_lift", "rel_lift_ci_low",
    "rel_lift_ci_high", "p_value", "p_value_adjusted", "significant", "method",
]

OPENS_NOTE = (
    "Clicks and conversions are preferred as primary metrics: opens are inflated by machine opens "
    "(Apple Mail Privacy Protection and security scanners fetch the tracking pixel without anyone "
    "reading), so open rates are reported as descriptive only."
)


@dataclass(frozen=True)
class Recommendation:
    """What to do with the test, and why, in one sentence."""

    decision: str
    reason: str
    arm: str | None = None
    metric: str | None = None

    def __str__(self) -> str:
        return f"{self.decision}: {self.reason}"


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare .to_frame() instead
class ExperimentResult:
    """Every treatment arm compared with control on every metric.

    Attributes
    ----------
    table
        One row per (treatment arm, metric); see :meth:`to_frame`.
    srm
        The sample-ratio-mismatch check of the arm sizes.
    control, treatments
        The control arm and the treatment arms, in table order.
    alpha, correction
        Significance level and multiple-comparison correction (applied across all rows).
    primary_metric
        The metric the recommendation is based on.
    notes
        Plain-language caveats (machine opens, excluded units, CUPED, thin data).
    """

    table: pd.DataFrame
    srm: SRMResult
    control: str
    treatments: tuple[str, ...]
    alpha: float
    correction: str
    primary_metric: str
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """A copy of the comparison table: one row per (treatment arm, metric).

        Columns: ``arm, metric, kind, n_control, n_treatment, control_mean, treatment_mean,
        abs_lift, abs_lift_ci_low, abs_lift_ci_high, rel_lift, rel_lift_ci_low, rel_lift_ci_high,
        p_value, p_value_adjusted, significant, method`` and, where they apply,
        ``p_value_mann_whitney`` (continuous), ``prob_beat_control`` and ``expected_loss``
        (proportions, Beta(1, 1) prior), ``abs_lift_boot_ci_low/high`` (bootstrap). Intervals are
        per-comparison (1 - alpha); ``significant`` uses the adjusted p-value.
        """
        return self.table.copy()

    @property
    def recommendation(self) -> Recommendation:
        """Ship / don't ship / inconclusive / invalid: SRM, from the primary metric."""
        return recommend(self.table, self.srm, self.primary_metric, self.alpha, self.correction)

    def summary(self) -> str:
        """A plain-text report: design, SRM, each comparison in words, notes, recommendation."""
        lines = [
            f"Experiment: {len(self.treatments)} arm(s) vs control {self.control!r}; alpha "
            f"{self.alpha:g}, {self.correction} correction across {len(self.table)} comparisons.",
            self.srm.summary(),
            f"Primary metric: {self.primary_metric}.",
        ]
        for metric, rows in self.table.groupby("metric", sort=False):
            lines.append(f"{metric} ({rows['kind'].iloc[0]}; {rows['method'].iloc[0]}):")
            lines.extend(f"  {describe_row(row, self.alpha)}" for row in rows.itertuples())
        lines.extend(f"Note: {note}" for note in self.notes)
        lines.append(f"Recommendation: {self.recommendation}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rec = self.recommendation
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<h4>Recommendation: {html.escape(rec.decision)}</h4><p>{html.escape(rec.reason)}</p>"
            f"<p>{html.escape(self.srm.summary())}</p>"
            + self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}")
            + (f"<ul>{notes}</ul>" if notes else "")
        )


def _fmt(value: float, kind: str, lift: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "proportion":
        return f"{value * 100:+.2f} pp" if lift else f"{value:.2%}"
    return f"{value:+.4g}" if lift else f"{value:.4g}"


def _pct(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:+.1%}"


def _fmt_p(p: float) -> str:
    if p is None or math.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def describe_row(row, alpha: float) -> str:
    """One comparison in words."""
    level = f"{1 - alpha:.0%}"
    verdict = "significant" if row.significant else "not significant"
    return (
        f"{row.arm}: {_fmt(row.treatment_mean, row.kind)} vs {_fmt(row.control_mean, row.kind)}, "
        f"lift {_fmt(row.abs_lift, row.kind, True)} ({level} CI {_fmt(row.abs_lift_ci_low, row.kind, True)}"
        f" to {_fmt(row.abs_lift_ci_high, row.kind, True)}), relative {_pct(row.rel_lift)} "
        f"({_pct(row.rel_lift_ci_low)} to {_pct(row.rel_lift_ci_high)}), adjusted p "
        f"{_fmt_p(row.p_value_adjusted)}: {verdict}{_extras(row)}"
    )


def _extras(row) -> str:
    """Bayesian and robustness figures, when the table has them for this row."""
    parts = []
    chance = getattr(row, "prob_beat_control", float("nan"))
    if chance == chance:  # not NaN
        shown = "> 99.9%" if chance > 0.999 else "< 0.1%" if chance < 0.001 else f"{chance:.1%}"
        parts.append(f"chance to beat control {shown}")
    mann_whitney = getattr(row, "p_value_mann_whitney", float("nan"))
    if mann_whitney == mann_whitney:
        parts.append(f"Mann-Whitney p {_fmt_p(mann_whitney)}")
    return f" ({'; '.join(parts)})" if parts else ""


def recommend(
    table: pd.DataFrame, srm: SRMResult, primary: str, alpha: float, correction: str
) -> Recommendation:
    """The decision rule: SRM invalidates; a significant gain on the primary metric ships the arm
    with the largest lift; only significant losses mean don't ship; anything else is inconclusive."""
    if srm.flagged:
        return Recommendation(
            "invalid: SRM",
            f"the arm sizes differ from the planned split (chi-square p = {srm.p_value:.2g}), so "
            "assignment or logging is broken and no lift in this test can be trusted",
        )
    rows = table[table["metric"] == primary]
    wins = rows[rows["significant"] & (rows["abs_lift"] > 0)]
    losses = rows[rows["significant"] & (rows["abs_lift"] < 0)]
    kind = rows["kind"].iloc[0] if len(rows) else "continuous"
    if len(wins):
        best = wins.loc[wins["abs_lift"].idxmax()]
        return Recommendation(
            "ship",
            f"{best['arm']} raises {primary} from {_fmt(best['control_mean'], kind)} to "
            f"{_fmt(best['treatment_mean'], kind)} ({_pct(best['rel_lift'])}, {1 - alpha:.0%} CI "
            f"{_pct(best['rel_lift_ci_low'])} to {_pct(best['rel_lift_ci_high'])}; adjusted p "
            f"{_fmt_p(best['p_value_adjusted'])} with {correction} correction)",
            arm=str(best["arm"]),
            metric=primary,
        )
    if len(losses) and len(losses) == len(rows):
        worst = losses.loc[losses["abs_lift"].idxmin()]
        return Recommendation(
            "don't ship",
            f"every treatment lowers {primary} significantly (worst: {worst['arm']} "
            f"{_pct(worst['rel_lift'])}, adjusted p {_fmt_p(worst['p_value_adjusted'])})",
            arm=str(worst["arm"]),
            metric=primary,
        )
    if len(losses):
        return Recommendation(
            "don't ship",
            f"no arm improves {primary} significantly and "
            f"{', '.join(map(str, losses['arm']))} lowers it significantly",
            metric=primary,
        )
    lifts = rows["abs_lift"].abs().dropna()
    widest = rows.loc[lifts.idxmax()] if len(lifts) else None
    detail = (
        f" (largest: {widest['arm']} {_pct(widest['rel_lift'])}, {1 - alpha:.0%} CI "
        f"{_pct(widest['rel_lift_ci_low'])} to {_pct(widest['rel_lift_ci_high'])})"
        if widest is not None
        else ""
    )
    return Recommendation(
        "inconclusive",
        f"no arm's {primary} differs significantly from control at alpha {alpha:g} after "
        f"{correction} correction{detail}; the test may be too small to detect the effect",
        metric=primary,
    )
