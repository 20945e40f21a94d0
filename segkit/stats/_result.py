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
    "rel_lift_ci_high", "p_value", "p_value_adjusted", "significant", "scale", "alternative",
    "test", "method", "refusal",
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
        Plain-language caveats (machine opens, excluded units, CUPED, inferred kinds, refusals).
    scale, alternative
        The scale the recommendation quotes (``"relative"`` or ``"absolute"``) and the sidedness
        of every test.
    """

    table: pd.DataFrame
    srm: SRMResult
    control: str
    treatments: tuple[str, ...]
    alpha: float
    correction: str
    primary_metric: str
    notes: tuple[str, ...] = ()
    scale: str = "relative"
    alternative: str = "two-sided"

    def to_frame(self) -> pd.DataFrame:
        """A copy of the comparison table: one row per (treatment arm, metric).

        Columns: ``arm, metric, kind, n_control, n_treatment, control_mean, treatment_mean,
        abs_lift, abs_lift_ci_low, abs_lift_ci_high, rel_lift, rel_lift_ci_low, rel_lift_ci_high,
        p_value, p_value_adjusted, significant, scale, alternative, test, method, refusal``, then
        ``prob_beat_control, expected_loss, credible_low, credible_high`` (Bayesian, absolute
        scale: Beta(1, 1) posteriors for proportions, a flat-prior normal posterior otherwise),
        ``adjusted_level`` and ``abs_lift_adj_ci_low/high, rel_lift_adj_ci_low/high`` (intervals
        at the level the correction implies: they exclude 0 exactly when ``significant``) and,
        where they apply, ``p_value_mann_whitney`` (continuous) and ``abs_lift_boot_ci_low/high``
        (bootstrap).

        ``p_value`` tests "no difference", which is the same hypothesis on both scales (a ratio
        of 1 is a difference of 0); both intervals invert that test, so each excludes 0 exactly
        when ``p_value < alpha``. ``test`` names it (Welch t, z, score z or Barnard exact),
        ``method`` says why and how the intervals were made, ``refusal`` why a row was not tested
        (its numbers are then NaN).
        """
        return self.table.copy()

    @property
    def recommendation(self) -> Recommendation:
        """Ship / don't ship / inconclusive / invalid: SRM, from the primary metric."""
        return recommend(self.table, self.srm, self.primary_metric, self.alpha, self.correction,
                         scale=self.scale, alternative=self.alternative)

    def summary(self) -> str:
        """A plain-text report: design, SRM, each comparison in words, notes, recommendation."""
        lines = [
            f"Experiment: {len(self.treatments)} arm(s) vs control {self.control!r}; alpha "
            f"{self.alpha:g}, {self.correction} correction across {len(self.table)} comparisons; "
            f"{self.alternative} tests; decisions quoted on the {self.scale} scale.",
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
    if isinstance(value, float) and math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    if kind == "proportion":
        return f"{value * 100:+.2f} pp" if lift else f"{value:.2%}"
    return f"{value:+.4g}" if lift else f"{value:.4g}"


def _pct(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return f"{value:+.1%}"


def _fmt_p(p: float) -> str:
    if p is None or math.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def describe_row(row, alpha: float) -> str:
    """One comparison in words."""
    refusal = getattr(row, "refusal", "")
    if refusal:
        return f"{row.arm}: not tested: {refusal}"
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


def _quote(row, scale: str, alpha: float, family: int, correction: str) -> str:
    """The lift with its interval at the corrected level, on the declared scale (absolute when the
    relative interval is undefined), and the adjusted p-value."""
    relative = scale == "relative" and math.isfinite(row["rel_lift"]) and not (
        math.isnan(row["rel_lift_adj_ci_low"]) and math.isnan(row["rel_lift_adj_ci_high"]))
    if relative:
        lift = f"{_pct(row['rel_lift'])}, relative"
        low, high = _pct(row["rel_lift_adj_ci_low"]), _pct(row["rel_lift_adj_ci_high"])
    else:
        kind = row["kind"]
        lift = f"{_fmt(row['abs_lift'], kind, True)}, absolute"
        low, high = (_fmt(row["abs_lift_adj_ci_low"], kind, True),
                     _fmt(row["abs_lift_adj_ci_high"], kind, True))
    level = f"{1 - alpha:.0%} CI" if family == 1 or correction == "none" else \
        f"{1 - alpha:.0%} CI corrected for {family} comparisons"
    return (f"{lift}; {level} {low} to {high}; adjusted p {_fmt_p(row['p_value_adjusted'])}, "
            f"{row['test']}")


def recommend(
    table: pd.DataFrame, srm: SRMResult, primary: str, alpha: float, correction: str,
    *, scale: str = "relative", alternative: str = "two-sided",
) -> Recommendation:
    """The decision rule: SRM invalidates; a significant gain on the primary metric ships the arm
    with the largest lift on the declared scale; only significant losses mean don't ship; anything
    else is inconclusive. A one-sided test acts only on its direction ("larger": ship or
    inconclusive; "smaller": don't ship or inconclusive). The interval quoted is at the corrected
    level, so it excludes 0 exactly when the comparison is significant."""
    if srm.flagged:
        return Recommendation(
            "invalid: SRM",
            f"the arm sizes differ from the planned split (chi-square p = {srm.p_value:.2g}), so "
            "assignment or logging is broken and no lift in this test can be trusted",
        )
    family = int(table["p_value"].notna().sum())
    rows = table[table["metric"] == primary]
    tested = rows[rows["refusal"] == ""] if "refusal" in rows else rows
    if not len(tested):
        reasons = "; ".join(sorted(set(rows["refusal"]))) if len(rows) else "no rows"
        return Recommendation("inconclusive", f"{primary} could not be tested: {reasons}",
                              metric=primary)
    key = "rel_lift" if scale == "relative" else "abs_lift"
    significant = tested["significant"].astype(bool)
    wins = tested[significant & (tested["abs_lift"] > 0)] if alternative != "smaller" else tested[:0]
    losses = tested[significant & (tested["abs_lift"] < 0)] if alternative != "larger" else tested[:0]
    if len(wins):
        ranking = wins[key].where(wins[key].notna(), wins["abs_lift"])
        best = wins.loc[ranking.idxmax()]
        return Recommendation(
            "ship",
            f"{best['arm']} raises {primary} from {_fmt(best['control_mean'], best['kind'])} to "
            f"{_fmt(best['treatment_mean'], best['kind'])} "
            f"({_quote(best, scale, alpha, family, correction)}; {correction} correction)",
            arm=str(best["arm"]),
            metric=primary,
        )
    if len(losses) and len(losses) == len(tested):
        worst = losses.loc[losses["abs_lift"].idxmin()]
        return Recommendation(
            "don't ship",
            f"every treatment lowers {primary} significantly (worst: {worst['arm']} "
            f"{_quote(worst, scale, alpha, family, correction)})",
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
    lifts = tested["abs_lift"].abs().dropna()
    widest = tested.loc[lifts.idxmax()] if len(lifts) else None
    detail = f" (largest: {widest['arm']} {_quote(widest, scale, alpha, family, correction)})" \
        if widest is not None else ""
    direction = {"larger": " in the tested direction (an increase)",
                 "smaller": " in the tested direction (a decrease)"}.get(alternative, "")
    return Recommendation(
        "inconclusive",
        f"no arm's {primary} differs significantly from control{direction} at alpha {alpha:g} "
        f"after {correction} correction{detail}; the test may be too small to detect the effect",
        metric=primary,
    )
